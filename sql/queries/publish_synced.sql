-- After the lake committed: the writer's record of what the lake now holds.
DELETE FROM published_story_of WHERE article_id IN (SELECT article_id FROM publish_pending_articles);
INSERT INTO published_story_of
SELECT article_id, story_id FROM articles SEMI JOIN publish_pending_articles USING (article_id);
DELETE FROM published_stories WHERE story_id IN (SELECT story_id FROM publish_stories_gone
                                                  UNION SELECT story_id FROM publish_stories_new);
INSERT INTO published_stories SELECT * FROM publish_stories_new;
DELETE FROM publish_pending_articles;
DELETE FROM publish_pending_raw_pages;
DELETE FROM publish_pending_fetch_queue;
DELETE FROM publish_pending_feed_entries;
DELETE FROM publish_pending_feed_polls;
DELETE FROM publish_pending_page_errors;
DELETE FROM publish_state;
INSERT INTO publish_state VALUES ($version, $schema);
