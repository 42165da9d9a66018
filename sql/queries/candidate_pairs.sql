-- Candidate pairs (new article, indexed article): their shared sampled hashes are $fraction or
-- more of the smaller sample.
SELECT dq.article_id, dc.article_id
FROM dedup_hits h JOIN story_docs dq ON dq.doc_id = h.qd JOIN story_docs dc ON dc.doc_id = h.cd
WHERE h.shared >= $fraction * least(dq.n_samples, dc.n_samples);
