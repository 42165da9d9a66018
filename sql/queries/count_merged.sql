-- Rows a load merged into {table}: its staged rows.
SELECT count(*) FROM staged_{table};
