-- Articles whose story assignment differs from what the lake holds (assign_stories moves stored
-- articles between stories as copies arrive): their rows are published again.
INSERT INTO publish_pending_articles
SELECT a.article_id, p.article_id IS NOT NULL AS existed
FROM articles a
LEFT JOIN published_story_of p USING (article_id)
WHERE a.story_id IS DISTINCT FROM p.story_id;

-- Story rows new or changed since the last publish, and the ids whose lake copy goes.
CREATE OR REPLACE TEMP TABLE publish_stories_new AS
SELECT * FROM stories EXCEPT SELECT * FROM published_stories;

CREATE OR REPLACE TEMP TABLE publish_stories_gone AS
SELECT story_id FROM (SELECT * FROM published_stories EXCEPT SELECT * FROM stories)
UNION
SELECT story_id FROM publish_stories_new WHERE $recovering;
