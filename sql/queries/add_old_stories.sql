-- The stories of the whole components (dedup_ids) are rewritten too.
INSERT INTO dedup_old SELECT DISTINCT story_id FROM articles
WHERE article_id IN (SELECT article_id FROM dedup_ids) AND story_id IS NOT NULL;
