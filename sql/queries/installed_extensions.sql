-- The DuckDB extensions already installed (the lake's come from pip wheels, never the network).
SELECT extension_name FROM duckdb_extensions() WHERE installed;
