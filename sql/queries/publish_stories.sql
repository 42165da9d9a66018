DELETE FROM lake.stories WHERE story_id IN (SELECT story_id FROM publish_stories_gone);
INSERT INTO lake.stories BY NAME SELECT * FROM publish_stories_new;
