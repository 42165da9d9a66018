-- The articles of dedup_ids are re-indexed: their postings, docs and copy edges go.
DELETE FROM story_postings WHERE doc_id IN
(SELECT doc_id FROM story_docs JOIN dedup_ids USING (article_id));
DELETE FROM story_docs WHERE article_id IN (SELECT article_id FROM dedup_ids);
DELETE FROM story_edges WHERE a IN (SELECT article_id FROM dedup_ids)
OR b IN (SELECT article_id FROM dedup_ids);
