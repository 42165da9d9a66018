-- Newest extraction per URL; ids of rows that are new or whose text changed need a story.
CREATE OR REPLACE TEMP TABLE merge_articles AS
SELECT * FROM staged_articles
QUALIFY row_number() OVER (PARTITION BY url ORDER BY extracted_at DESC) = 1;

CREATE OR REPLACE TEMP TABLE articles_needing_story AS
SELECT m.article_id
FROM merge_articles m
LEFT JOIN articles a USING (article_id)
WHERE a.article_id IS NULL OR a.text IS DISTINCT FROM m.text OR a.story_id IS NULL;

INSERT INTO articles BY NAME
SELECT * FROM merge_articles
ON CONFLICT (article_id) DO UPDATE SET
    title = excluded.title,
    authors = excluded.authors,
    published_at = excluded.published_at,
    fetched_at = excluded.fetched_at,
    text = excluded.text,
    language = excluded.language,
    wire_service = excluded.wire_service,
    site_name = excluded.site_name,
    description = excluded.description,
    page_url = excluded.page_url,
    extracted_at = excluded.extracted_at,
    cleaning_emptied = excluded.cleaning_emptied
WHERE excluded.extracted_at >= articles.extracted_at;
