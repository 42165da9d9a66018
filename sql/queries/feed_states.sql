SELECT configured_url, url, outlet, etag, last_modified, consecutive_failures, next_poll_at, gone, kind
FROM feeds;
