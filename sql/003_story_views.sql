-- Analyst views over stories (see docs/dedup.md).

-- Each article's wire: as detected on the article itself, and as attributed through its story
-- (a copy without markers gets the wire of the story it belongs to).
CREATE OR REPLACE VIEW article_wire AS
SELECT a.article_id, a.story_id, a.outlet,
       a.wire_service AS detected_wire,
       COALESCE(s.wire_service, a.wire_service) AS attributed_wire
FROM articles a
LEFT JOIN stories s USING (story_id);

-- One row per story: the canonical copy's article row, with the story's aggregates.
CREATE OR REPLACE VIEW articles_deduped AS
SELECT a.*,
       s.wire_service       AS story_wire_service,
       s.first_published_at AS story_first_published_at,
       s.article_count,
       s.outlet_count
FROM stories s
JOIN articles a ON a.article_id = s.canonical_article_id;

-- One row per story: who picked it up and how fast.
-- wire_published_at, "the wire's own publication", is the canonical copy's published_at when
-- the canonical copy is the agency's own page, else the story's earliest copy. Pickup lags are
-- measured from it to each other outlet's first copy (that outlet's first published_at).
CREATE OR REPLACE VIEW story_pickup AS
WITH earliest AS (
    SELECT story_id, first(outlet ORDER BY COALESCE(published_at, fetched_at), article_id) AS outlet
    FROM articles
    WHERE story_id IS NOT NULL
    GROUP BY story_id
),
ref AS (
    SELECT s.story_id, s.wire_service, s.first_published_at, s.article_count, s.outlet_count, c.title,
           CASE WHEN wire_own_site(c.url) IS NOT NULL THEN COALESCE(c.published_at, c.fetched_at)
                ELSE s.first_published_at END AS wire_published_at,
           CASE WHEN wire_own_site(c.url) IS NOT NULL THEN c.outlet ELSE e.outlet END AS source_outlet
    FROM stories s
    JOIN articles c ON c.article_id = s.canonical_article_id
    JOIN earliest e ON e.story_id = s.story_id
),
outlet_first AS (
    SELECT story_id, outlet, min(COALESCE(published_at, fetched_at)) AS first_at
    FROM articles
    WHERE story_id IS NOT NULL
    GROUP BY ALL
)
SELECT r.story_id, r.title, r.wire_service, r.first_published_at, r.wire_published_at,
       r.source_outlet, r.article_count, r.outlet_count,
       list(o.outlet ORDER BY o.first_at, o.outlet) AS outlets,
       min(o.first_at - r.wire_published_at) FILTER (WHERE o.outlet <> r.source_outlet) AS first_pickup_lag,
       to_seconds(median(epoch(o.first_at) - epoch(r.wire_published_at)) FILTER (WHERE o.outlet <> r.source_outlet))
           AS median_pickup_lag
FROM ref r
JOIN outlet_first o USING (story_id)
GROUP BY ALL;
