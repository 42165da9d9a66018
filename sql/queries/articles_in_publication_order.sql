-- Every stored article, in the order a rebuild feeds them to the incremental path.
SELECT article_id FROM articles ORDER BY COALESCE(published_at, fetched_at), article_id;
