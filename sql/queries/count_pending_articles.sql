-- Articles a publish copies (new, changed, or moved to another story).
SELECT count(DISTINCT article_id) FROM publish_pending_articles;
