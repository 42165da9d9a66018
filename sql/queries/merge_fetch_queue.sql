-- Latest word per URL wins, except that a fetched page never goes back to pending or disallowed.
INSERT INTO fetch_queue BY NAME
SELECT * FROM staged_fetch_queue
QUALIFY row_number() OVER (
    PARTITION BY url ORDER BY (status = 'done') DESC, updated_at DESC) = 1
ON CONFLICT (url) DO UPDATE SET
    status = excluded.status,
    attempts = excluded.attempts,
    last_error = excluded.last_error,
    last_attempt_at = excluded.last_attempt_at,
    next_attempt_at = excluded.next_attempt_at,
    updated_at = excluded.updated_at,
    robots_fingerprint = excluded.robots_fingerprint
WHERE excluded.updated_at >= fetch_queue.updated_at
  AND NOT (fetch_queue.status = 'done' AND excluded.status IN ('pending', 'disallowed'));
