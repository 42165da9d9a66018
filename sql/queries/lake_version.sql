-- The lake's latest snapshot: the version analysts query.
SELECT max(snapshot_id) FROM lake.snapshots();
