-- Whether the load being committed merged articles (merge_articles.sql marks them).
SELECT count(*) > 0 FROM duckdb_tables() WHERE temporary AND table_name = 'articles_needing_story';
