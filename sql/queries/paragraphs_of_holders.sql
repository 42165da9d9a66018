-- Every paragraph key of the sampled holders: what else each holder contains.
SELECT article_id, key FROM story_paragraphs
WHERE article_id IN (SELECT DISTINCT article_id FROM dedup_holders);
