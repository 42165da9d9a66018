-- Before a rebuild: no article has a story.
UPDATE articles SET story_id = NULL WHERE story_id IS NOT NULL;
