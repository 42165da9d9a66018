-- The latest migration applied to this database.
SELECT max(version) FROM schema_migrations;
