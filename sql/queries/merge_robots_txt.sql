-- The latest read of each origin's robots.txt.
INSERT INTO robots_txt BY NAME
SELECT * FROM staged_robots_txt
QUALIFY row_number() OVER (PARTITION BY origin ORDER BY fetched_at DESC) = 1
ON CONFLICT (origin) DO UPDATE SET
    fetched_at = excluded.fetched_at,
    expires_at = excluded.expires_at,
    status = excluded.status,
    fingerprint = excluded.fingerprint,
    body = excluded.body
WHERE excluded.fetched_at >= robots_txt.fetched_at;
