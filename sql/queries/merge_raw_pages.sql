INSERT INTO raw_pages BY NAME
SELECT * FROM staged_raw_pages
QUALIFY row_number() OVER (PARTITION BY url ORDER BY fetched_at DESC) = 1
ON CONFLICT (url) DO UPDATE SET
    final_url = excluded.final_url,
    http_status = excluded.http_status,
    content_type = excluded.content_type,
    fetched_at = excluded.fetched_at,
    bytes = excluded.bytes,
    body_zlib = excluded.body_zlib
WHERE excluded.fetched_at > raw_pages.fetched_at;
