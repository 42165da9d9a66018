-- The copy edges touching an article of dedup_ids: one step of walking a component.
SELECT a, b FROM story_edges WHERE a IN (SELECT article_id FROM dedup_ids)
OR b IN (SELECT article_id FROM dedup_ids);
