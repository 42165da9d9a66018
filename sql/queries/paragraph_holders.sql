-- The sampled holders of each paragraph key (sample_paragraph_holders.sql made them).
SELECT key, article_id FROM dedup_holders;
