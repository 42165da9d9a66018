SELECT outlet, url, last_polled_at, last_status, last_error, consecutive_failures, next_poll_at, gone,
       kind, poll_interval_seconds, poll_reason
FROM feeds
ORDER BY outlet, url;
