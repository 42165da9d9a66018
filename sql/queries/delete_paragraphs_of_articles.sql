-- The articles of dedup_ids are re-indexed: their old paragraph rows go.
DELETE FROM story_paragraphs WHERE article_id IN (SELECT article_id FROM dedup_ids);
