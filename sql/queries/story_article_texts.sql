-- The stored articles the dedup parses (ids registered as dedup_ids), with their publication day.
SELECT a.article_id, a.outlet, a.text,
       CAST(epoch(COALESCE(a.published_at, a.fetched_at)) // 86400 AS INTEGER) AS day
FROM articles a JOIN dedup_ids USING (article_id);
