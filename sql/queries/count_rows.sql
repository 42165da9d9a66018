-- The rows of {table} (copied whole to the lake).
SELECT count(*) FROM {table};
