-- Which candidate URLs wirecopy has already queued or stored.
SELECT c.url
FROM candidates c
WHERE c.url IN (SELECT url FROM fetch_queue)
   OR c.url IN (SELECT url FROM articles);
