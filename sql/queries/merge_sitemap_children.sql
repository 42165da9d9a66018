-- Newest word per child sitemap of an index: every poll of the index writes all its children.
INSERT INTO sitemap_children BY NAME
SELECT * FROM staged_sitemap_children
QUALIFY row_number() OVER (PARTITION BY feed_url, sitemap_url ORDER BY updated_at DESC) = 1
ON CONFLICT (feed_url, sitemap_url) DO UPDATE SET
    index_lastmod = excluded.index_lastmod,
    listed_at = excluded.listed_at,
    etag = excluded.etag,
    last_modified = excluded.last_modified,
    read_lastmod = excluded.read_lastmod,
    last_polled_at = excluded.last_polled_at,
    last_status = excluded.last_status,
    updated_at = excluded.updated_at
WHERE excluded.updated_at >= sitemap_children.updated_at;
