-- Keys of {table} a publish copies, and how many of them the lake may hold an older copy of.
SELECT count(*), count(*) FILTER (WHERE existed) FROM publish_pending_{table};
