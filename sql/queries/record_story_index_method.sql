-- The story index is (re)built by this method from now on.
DELETE FROM story_index_method;
INSERT INTO story_index_method VALUES ($method);
