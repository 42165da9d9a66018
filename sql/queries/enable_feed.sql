UPDATE feeds
SET gone = FALSE, consecutive_failures = 0, next_poll_at = NULL
WHERE url = $url OR configured_url = $url
RETURNING url;
