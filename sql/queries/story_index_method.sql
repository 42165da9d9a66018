-- The method the stored story index was built by (tasks/dedup.py STORY_INDEX_METHOD).
SELECT max(method) FROM story_index_method;
