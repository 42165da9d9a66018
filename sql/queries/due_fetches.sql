-- Pages seen earlier and still to fetch: pending ones, failed ones whose backoff has passed, and
-- ones robots.txt disallowed whose origin's robots.txt has changed or is due to be read again
-- (all of them when robots.txt is not respected).
SELECT q.url, q.feed_url, q.outlet, q.feed_title, q.feed_published_at, q.attempts, q.robots_fingerprint
FROM fetch_queue q
WHERE (q.status IN ('pending', 'failed')
       AND q.attempts < $max_attempts
       AND (q.next_attempt_at IS NULL OR q.next_attempt_at <= $now))
   OR (q.status = 'disallowed'
       AND (NOT $respect_robots OR NOT EXISTS (
           SELECT 1 FROM robots_txt r
           WHERE r.origin = lower(regexp_extract(q.url, '^([a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*)', 1))
             AND r.expires_at > $now
             AND r.fingerprint = q.robots_fingerprint)))
ORDER BY q.updated_at
LIMIT $limit;
