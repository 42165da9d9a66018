-- Which articles of dedup_ids are in the story index already (they are re-indexed).
SELECT article_id FROM story_docs WHERE article_id IN (SELECT article_id FROM dedup_ids);
