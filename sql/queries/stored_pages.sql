SELECT a.url, a.feed_url, a.outlet, q.feed_title, q.feed_published_at, r.fetched_at, r.body_zlib
FROM articles a
JOIN raw_pages r USING (url)
LEFT JOIN fetch_queue q USING (url)
WHERE a.url IN (SELECT url FROM candidates);
