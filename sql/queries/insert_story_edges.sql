-- Verified copy relations found for the batch (registered as dedup_edges).
INSERT INTO story_edges SELECT * FROM dedup_edges;
