-- The paragraph keys stored for the articles of dedup_ids.
SELECT article_id, key FROM story_paragraphs JOIN dedup_ids USING (article_id);
