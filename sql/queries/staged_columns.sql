-- The columns a staged table has (batches staged by an earlier version lack the newer ones).
SELECT column_name FROM (DESCRIBE staged_{table});
