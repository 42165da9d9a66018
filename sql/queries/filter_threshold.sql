-- Joins on up to $n pending keys become IN filters pushed into the scans, so the rows of a large
-- table are read only where a key matches (DuckDB's default does this for up to 50 keys).
SET dynamic_or_filter_threshold = $n;
