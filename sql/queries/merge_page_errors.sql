INSERT INTO page_errors BY NAME
SELECT * FROM staged_page_errors
QUALIFY row_number() OVER (PARTITION BY url, attempted_at) = 1
ON CONFLICT DO NOTHING;
