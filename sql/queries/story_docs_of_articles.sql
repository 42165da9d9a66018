-- The stored content of the articles of dedup_ids, so they are never parsed again as candidates.
SELECT article_id, outlet, shingles, heads FROM story_docs
WHERE article_id IN (SELECT article_id FROM dedup_ids);
