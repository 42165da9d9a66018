-- Whether there is a story index at all (one built by an older method is rebuilt).
SELECT count(*) FROM story_docs;
