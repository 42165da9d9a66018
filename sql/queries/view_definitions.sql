-- A database's views, each as the statement that recreates it in the lake.
SELECT view_name, regexp_replace(sql, '^CREATE VIEW', 'CREATE OR REPLACE VIEW')
FROM duckdb_views()
WHERE database_name = $db AND schema_name = 'main' AND NOT internal;
