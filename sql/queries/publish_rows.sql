-- The pending rows of {table}, to the lake: its older copies deleted, then the new ones inserted.
DELETE FROM lake.{table} AS t
WHERE EXISTS (SELECT 1 FROM wirecopy.publish_pending_{table} p
              WHERE {match} AND (p.existed OR $recovering));

INSERT INTO lake.{table} BY NAME
SELECT t.* FROM wirecopy.{table} t
JOIN (SELECT DISTINCT {keys} FROM wirecopy.publish_pending_{table}) p USING ({keys});
