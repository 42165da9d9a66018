-- {table} copied to the lake whole: the first publish, or after a migration changed its shape.
CREATE OR REPLACE TABLE lake.{table} AS SELECT * FROM wirecopy.{table};
