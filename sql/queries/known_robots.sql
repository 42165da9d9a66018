-- The stored robots.txt of the candidate origins (passed as url).
SELECT origin, fetched_at, expires_at, status, fingerprint, body
FROM robots_txt
WHERE origin IN (SELECT url FROM candidates);
