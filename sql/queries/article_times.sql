-- When each article of dedup_ids was published (else fetched): the order that names stories.
SELECT article_id, COALESCE(published_at, fetched_at) FROM articles
WHERE article_id IN (SELECT article_id FROM dedup_ids);
