-- Publishing to the analysts' DuckLake (tasks/lake.py). Private to the writer, never published.

-- Keys merged since the last publish, one table per published table; `existed`: the row was in this
-- database before the merge, so the lake may hold an older copy to delete first.
CREATE TABLE publish_pending_articles AS SELECT article_id, TRUE AS existed FROM articles LIMIT 0;
CREATE TABLE publish_pending_raw_pages AS SELECT url, TRUE AS existed FROM raw_pages LIMIT 0;
CREATE TABLE publish_pending_fetch_queue AS SELECT url, TRUE AS existed FROM fetch_queue LIMIT 0;
CREATE TABLE publish_pending_feed_entries AS SELECT feed_url, entry_id, TRUE AS existed FROM feed_entries LIMIT 0;
CREATE TABLE publish_pending_feed_polls AS SELECT feed_url, polled_at, TRUE AS existed FROM feed_polls LIMIT 0;
CREATE TABLE publish_pending_page_errors AS SELECT url, attempted_at, TRUE AS existed FROM page_errors LIMIT 0;

-- What the lake holds of story assignments, so a publish finds the articles and stories that
-- assign_stories or rebuild_stories changed by comparing two narrow native tables.
CREATE TABLE published_story_of AS SELECT article_id, story_id FROM articles LIMIT 0;
CREATE TABLE published_stories AS SELECT * FROM stories LIMIT 0;

-- The lake snapshot this database last synced to (a newer one in the lake means a publish was cut
-- short after its commit: the next one deletes every key before inserting it again), and the
-- migration it published the tables' shape at (after a new one, tables and views are compared).
CREATE TABLE publish_state (version BIGINT, schema_version INTEGER);
