-- The touched articles (dedup_ids) and every member of their current stories: the seeds of the
-- components to re-partition.
SELECT article_id FROM articles WHERE article_id IN (SELECT article_id FROM dedup_ids)
OR story_id IN (SELECT story_id FROM dedup_old);
