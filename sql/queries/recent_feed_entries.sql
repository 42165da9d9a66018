-- Entries the candidate feeds listed in the scheduler's window: when each appeared (published, else first seen).
SELECT e.feed_url, e.entry_id, COALESCE(e.published_at, e.first_seen_at) AS appeared_at
FROM feed_entries e
WHERE e.feed_url IN (SELECT url FROM candidates)
  AND COALESCE(e.published_at, e.first_seen_at) >= $since;
