-- A page whose every extracted line the cleaning removed is still an article: its `text` is what
-- extraction found, and this flag says cleaning emptied it (page_errors keeps the reason).
ALTER TABLE articles ADD COLUMN cleaning_emptied BOOLEAN DEFAULT false;

-- The story index method the stored index was built with (tasks/dedup.py STORY_INDEX_METHOD):
-- an index built by an older method is rebuilt once, by the first load that assigns stories.
CREATE TABLE story_index_method (method INTEGER NOT NULL);
