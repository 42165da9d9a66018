-- The stories the touched articles (dedup_ids) belong to now: they are rewritten.
CREATE OR REPLACE TEMP TABLE dedup_old AS
SELECT DISTINCT story_id FROM articles
WHERE article_id IN (SELECT article_id FROM dedup_ids) AND story_id IS NOT NULL;
