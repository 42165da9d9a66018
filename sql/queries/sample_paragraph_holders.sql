-- A sample of the articles holding each paragraph key of dedup_keys, fixed by the holder set
-- (smallest hashes), so the furniture verdict does not depend on arrival order.
CREATE OR REPLACE TEMP TABLE dedup_holders AS
SELECT key, article_id FROM story_paragraphs WHERE key IN (SELECT key FROM dedup_keys)
QUALIFY row_number() OVER (PARTITION BY key ORDER BY hash(article_id), article_id) <= $sample;
