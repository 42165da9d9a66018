-- Other articles (not in dedup_ids) holding a paragraph key of dedup_keys, whose furniture changed.
SELECT DISTINCT article_id FROM story_paragraphs WHERE key IN (SELECT key FROM dedup_keys)
AND article_id NOT IN (SELECT article_id FROM dedup_ids);
