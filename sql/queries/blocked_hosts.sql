-- Hosts whose anti-bot wall answered wirecopy in the last week, feeds and pages alike.
WITH walls AS (
    SELECT feed_url AS url, polled_at AS seen_at, blocked_by, 'feed' AS what FROM feed_polls WHERE status = 'blocked'
    UNION ALL
    SELECT url, attempted_at, blocked_by, 'page' FROM page_errors WHERE kind = 'blocked'
)
SELECT lower(regexp_extract(url, '^[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/?#]*@)?([^/?#:]+)', 1)) AS host,
       blocked_by,
       count(*) FILTER (WHERE what = 'feed') AS feed_polls,
       count(*) FILTER (WHERE what = 'page') AS pages,
       max(seen_at) AS last_blocked_at
FROM walls
WHERE seen_at >= $since
GROUP BY ALL
ORDER BY last_blocked_at DESC, host;
