-- Shared sampled hashes per pair (query doc, candidate doc), filled a group of days at a time.
CREATE OR REPLACE TEMP TABLE dedup_hits (qd BIGINT, cd BIGINT, shared BIGINT);
