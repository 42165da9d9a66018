-- Articles published in the range whose raw page is stored, optionally of one outlet.
SELECT a.url
FROM articles a
JOIN raw_pages r USING (url)
WHERE a.published_at BETWEEN $start AND $end
  AND ($outlet IS NULL OR a.outlet = $outlet)
ORDER BY a.published_at, a.url;
