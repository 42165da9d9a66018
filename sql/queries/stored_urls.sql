-- Candidate URLs that need no fetch: stored already, or refused for good.
SELECT c.url
FROM candidates c
WHERE c.url IN (SELECT url FROM articles)
   OR c.url IN (SELECT url FROM fetch_queue WHERE status = 'refused');
