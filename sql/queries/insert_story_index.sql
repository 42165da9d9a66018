-- Newly indexed articles: their docs (dedup_meta) and sampled postings (dedup_postings).
INSERT INTO story_docs SELECT * FROM dedup_meta;
INSERT INTO story_postings SELECT * FROM dedup_postings;
