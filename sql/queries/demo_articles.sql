-- The demo's summary: each loaded article with its wire and story, story by story.
SELECT a.outlet, coalesce(a.wire_service, '-'), a.story_id, a.title, length(a.text)
FROM articles a ORDER BY a.story_id, a.published_at;
