-- One row per publish: the version (DuckLake snapshot) that holds the state a run left, for
-- `SELECT ... FROM articles AT (VERSION => version)`.
CREATE TABLE IF NOT EXISTS lake.published_versions (
    version     BIGINT,
    flow        VARCHAR,
    flow_run_id VARCHAR,
    published_at TIMESTAMPTZ,
    articles    BIGINT,   -- article rows copied: new, changed, or moved to another story
    stories     BIGINT    -- story rows copied
);
