-- Newest staged state per configured feed, unless the database already holds a newer poll.
-- A feed moved by a 301 is deleted and re-inserted under its new URL.
CREATE OR REPLACE TEMP TABLE merge_feeds AS
SELECT s.*
FROM staged_feed_state s
LEFT JOIN feeds f ON f.configured_url = s.configured_url
WHERE f.last_polled_at IS NULL OR s.last_polled_at > f.last_polled_at
QUALIFY row_number() OVER (PARTITION BY s.configured_url ORDER BY s.last_polled_at DESC) = 1;

DELETE FROM feeds
WHERE configured_url IN (SELECT configured_url FROM merge_feeds)
   OR url IN (SELECT url FROM merge_feeds);

INSERT INTO feeds BY NAME SELECT * FROM merge_feeds;
