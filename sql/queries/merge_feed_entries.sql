INSERT INTO feed_entries BY NAME
SELECT * FROM staged_feed_entries
QUALIFY row_number() OVER (PARTITION BY feed_url, entry_id ORDER BY first_seen_at) = 1
ON CONFLICT DO NOTHING;
