-- Empty a derived table (the story index and stories, before a rebuild).
DELETE FROM {table};
