-- The children each candidate sitemap index listed when it was last read.
SELECT feed_url, sitemap_url, listed_at, index_lastmod, etag, last_modified, read_lastmod, last_polled_at, last_status
FROM sitemap_children
WHERE feed_url IN (SELECT url FROM candidates)
QUALIFY listed_at = max(listed_at) OVER (PARTITION BY feed_url)
ORDER BY feed_url, sitemap_url;
