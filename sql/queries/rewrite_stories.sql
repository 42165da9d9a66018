-- The new partition of the components (dedup_assign: article_id, story_id): articles take their
-- story, the stories they left (dedup_old) and the ones they form lose their rows, which are
-- written again from their members. A story's wire is the one most copies were detected as (the
-- agency's own page outranks any count); its canonical copy is the agency's own page, else a
-- complete copy (80%+ of the longest), the earliest one.
UPDATE articles SET story_id = n.story_id FROM dedup_assign n
WHERE articles.article_id = n.article_id
  AND articles.story_id IS DISTINCT FROM n.story_id;
CREATE OR REPLACE TEMP TABLE dedup_story_ids AS
SELECT DISTINCT story_id FROM dedup_assign;
DELETE FROM stories WHERE story_id IN (SELECT story_id FROM dedup_old)
OR story_id IN (SELECT story_id FROM dedup_story_ids);
INSERT INTO stories
WITH m AS (
    SELECT a.article_id, a.story_id, a.outlet, COALESCE(a.published_at, a.fetched_at) AS t,
           wire_own_site(a.url) AS own_wire, a.wire_service, COALESCE(d.n_shingles, 0) AS n,
           max(COALESCE(d.n_shingles, 0)) OVER (PARTITION BY a.story_id) AS longest
    FROM articles a LEFT JOIN story_docs d USING (article_id)
    WHERE a.story_id IN (SELECT story_id FROM dedup_story_ids)
),
votes AS (
    SELECT story_id, COALESCE(own_wire, wire_service) AS wire, count(own_wire) AS own, count(*) AS copies,
           min(t) AS first_t
    FROM m WHERE COALESCE(own_wire, wire_service) IS NOT NULL
    GROUP BY 1, 2
),
wire AS (
    SELECT story_id, wire FROM votes
    QUALIFY row_number() OVER (PARTITION BY story_id ORDER BY own DESC, copies DESC, first_t, wire) = 1
),
canonical AS (
    SELECT m.story_id, m.article_id FROM m LEFT JOIN wire w USING (story_id)
    QUALIFY row_number() OVER (
        PARTITION BY m.story_id
        ORDER BY m.own_wire IS NOT NULL AND m.own_wire = w.wire DESC,  -- the agency's own page
                 m.n >= 0.8 * m.longest DESC,  -- else a complete copy (80%+ of the longest) ...
                 m.t, m.article_id) = 1  -- ... the earliest one
)
SELECT m.story_id, c.article_id, w.wire, min(m.t), count(*), count(DISTINCT m.outlet)
FROM m JOIN canonical c USING (story_id) LEFT JOIN wire w USING (story_id)
GROUP BY m.story_id, c.article_id, w.wire;
DROP TABLE dedup_old;
DROP TABLE dedup_story_ids;
