-- The first doc_id to give out to newly indexed articles.
SELECT COALESCE(max(doc_id), 0) + 1 FROM story_docs;
