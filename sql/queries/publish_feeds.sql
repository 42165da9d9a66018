DELETE FROM lake.feeds WHERE url IN (SELECT url FROM publish_feeds_gone);
INSERT INTO lake.feeds BY NAME SELECT * FROM publish_feeds_new;
