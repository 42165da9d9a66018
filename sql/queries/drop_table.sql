-- A work table (dedup's temp tables) no longer needed.
DROP TABLE {table};
