-- Every table's columns in a database, in order: a table whose shape differs is copied whole.
SELECT table_name, column_name, data_type FROM duckdb_columns()
WHERE database_name = $db AND schema_name = 'main'
ORDER BY table_name, column_index;
