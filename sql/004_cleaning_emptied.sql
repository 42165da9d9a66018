-- A page whose every extracted line the cleaning removed is still an article: its `text` is what
-- extraction found, and this flag says cleaning emptied it (page_errors keeps the reason).
ALTER TABLE articles ADD COLUMN cleaning_emptied BOOLEAN DEFAULT false;
