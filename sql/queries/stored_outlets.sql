-- Outlets with stored articles: what a reprocess backfill can be limited to.
SELECT DISTINCT outlet
FROM articles
WHERE outlet IS NOT NULL
ORDER BY outlet;
