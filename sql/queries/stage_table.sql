-- One table's staged rows, from every Parquet file of the batches being loaded ({table} is
-- a staging table name, substituted by tasks/store.py; $files the file list).
CREATE OR REPLACE TEMP TABLE staged_{table} AS
SELECT * FROM read_parquet($files, union_by_name = true);
