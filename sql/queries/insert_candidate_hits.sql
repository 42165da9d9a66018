-- Indexed docs sharing enough sampled hashes with the new docs of one group of nearby days
-- (dedup_group, doc_ids $first..$last), published within $window days: the constant day range
-- lets DuckDB skip old row groups of story_postings. Each new pair is counted once.
INSERT INTO dedup_hits
WITH q AS (SELECT h, doc_id, day FROM story_postings
           WHERE doc_id BETWEEN $first AND $last
             AND doc_id IN (SELECT doc_id FROM dedup_group))
SELECT q.doc_id, p.doc_id, count(*)
FROM q JOIN story_postings p ON p.h = q.h
WHERE p.day BETWEEN $lo AND $hi AND abs(p.day - q.day) <= $window AND p.doc_id <> q.doc_id
  AND NOT (p.doc_id BETWEEN $first AND $last AND p.doc_id < q.doc_id)
GROUP BY ALL HAVING count(*) >= $min_shared;
