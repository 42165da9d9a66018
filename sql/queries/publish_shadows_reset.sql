-- A table copied whole: the lake now holds exactly what this database holds.
DELETE FROM published_story_of;
INSERT INTO published_story_of SELECT article_id, story_id FROM articles;
DELETE FROM published_stories;
INSERT INTO published_stories SELECT * FROM stories;
