-- The version a publish committed, who made it, and what it copied.
INSERT INTO lake.published_versions VALUES ($version, $flow, $run, now(), $articles, $stories);
