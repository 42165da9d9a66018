-- The lake version this database last synced to, and the migration it published the tables' shape at.
SELECT version, schema_version FROM publish_state;
