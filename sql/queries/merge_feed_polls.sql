INSERT INTO feed_polls BY NAME
SELECT * FROM staged_feed_polls
QUALIFY row_number() OVER (PARTITION BY feed_url, polled_at) = 1
ON CONFLICT DO NOTHING;
