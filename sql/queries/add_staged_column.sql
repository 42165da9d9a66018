-- A column a staged table lacks, as NULLs, so the merge statements can name every column.
ALTER TABLE staged_{table} ADD COLUMN {column} {type};
