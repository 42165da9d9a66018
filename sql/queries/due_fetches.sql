-- Pages seen earlier and still to fetch: pending ones, and failed ones whose backoff has passed.
SELECT url, feed_url, outlet, feed_title, feed_published_at, attempts
FROM fetch_queue
WHERE status IN ('pending', 'failed')
  AND attempts < $max_attempts
  AND (next_attempt_at IS NULL OR next_attempt_at <= $now)
ORDER BY updated_at
LIMIT $limit;
