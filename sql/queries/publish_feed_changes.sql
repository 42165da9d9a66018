-- Feeds are few: compared with the lake's copy directly.
CREATE OR REPLACE TEMP TABLE publish_feeds_new AS
SELECT * FROM wirecopy.feeds EXCEPT SELECT * FROM lake.feeds;

CREATE OR REPLACE TEMP TABLE publish_feeds_gone AS
SELECT url FROM (SELECT * FROM lake.feeds EXCEPT SELECT * FROM wirecopy.feeds);
