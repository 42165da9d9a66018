-- Keys a merge is about to write ({table}, keyed on {keys}): what the next publish copies to the lake.
-- Run before the merge, so `existed` tells whether the lake may hold an older copy of the row.
INSERT INTO publish_pending_{table}
SELECT DISTINCT {staged_keys}, t.{first_key} IS NOT NULL AS existed
FROM staged_{table} s
LEFT JOIN {table} t USING ({keys})
{only_new};
