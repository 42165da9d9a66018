-- A database's macros, each as the statement that recreates it in the lake.
SELECT function_name,
       'CREATE OR REPLACE MACRO ' || function_name || '(' || array_to_string(parameters, ', ') || ') AS '
           || CASE WHEN function_type = 'table_macro' THEN 'TABLE ' ELSE '' END || macro_definition
FROM duckdb_functions()
WHERE database_name = $db AND schema_name = 'main' AND NOT internal
  AND function_type IN ('macro', 'table_macro')
ORDER BY function_name;
