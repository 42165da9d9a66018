-- Assigned: a later group of the same load that merges no articles must not assign these again.
DROP TABLE articles_needing_story;
