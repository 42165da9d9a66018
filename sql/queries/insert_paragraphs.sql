-- The paragraph keys of the articles being indexed (registered as dedup_paras).
INSERT INTO story_paragraphs SELECT key, article_id FROM dedup_paras;
