-- Syndication dedup index (tasks/dedup.py). Everything here is derived from `articles` and can be
-- rebuilt with dedup.rebuild_stories(). No key constraints: rows are replaced by delete + insert
-- inside the load transaction, and the code keeps one row per article.

-- One row per indexed article: its content as the pair decision reads it (sorted distinct 32-bit
-- shingle hashes, uint32 little-endian), so stored articles are never re-parsed as candidates.
CREATE TABLE story_docs (
    article_id VARCHAR NOT NULL,
    doc_id     BIGINT  NOT NULL,   -- compact key used by story_postings
    outlet     VARCHAR NOT NULL,
    n_shingles INTEGER NOT NULL,   -- distinct word 4-shingles of the content
    n_samples  INTEGER NOT NULL,   -- of those, kept by mod-4 sampling (rows in story_postings)
    shingles   BLOB    NOT NULL,   -- the content's shingle hashes
    heads      BLOB    NOT NULL    -- the opening paragraphs' shingle hashes: [count, sizes..., hashes...]
);

-- Inverted index: Broder mod-4 sample of each article's 64-bit shingle hashes. If one text is
-- contained in another, its sample is contained in the other's sample, so containment candidates
-- are found by counting shared sampled hashes.
CREATE TABLE story_postings (
    h      BIGINT  NOT NULL,
    doc_id BIGINT  NOT NULL,
    day    INTEGER NOT NULL   -- the article's publication day: candidates come from a window of days
);

-- Normalised paragraphs, keyed by hash(outlet, paragraph): a key held by 3+ articles is that
-- outlet's template (newsletter prompts, widgets, footers) and is left out of their content.
CREATE TABLE story_paragraphs (
    key        BIGINT  NOT NULL,
    article_id VARCHAR NOT NULL
);

-- Verified copy relations (a < b). Stories are the connected components of this graph.
CREATE TABLE story_edges (
    a           VARCHAR NOT NULL,
    b           VARCHAR NOT NULL,
    shared      INTEGER NOT NULL,  -- shared content shingles
    containment DOUBLE  NOT NULL,  -- shared / smaller content
    jaccard     DOUBLE  NOT NULL,
    rule        VARCHAR NOT NULL   -- 'lead' (same opening, trimmed/teaser/updated) | 'body' (same text, new lead)
);

-- The agency whose own site a URL is on ('AP', 'Reuters', 'AFP'), else NULL: its page is the
-- story's canonical copy, and decides the story's wire.
CREATE OR REPLACE MACRO wire_own_site(url) AS CASE
    WHEN regexp_matches(lower(url), '^https?://([^/:?#]+\.)?(apnews\.com|ap\.org)([:/?#]|$)') THEN 'AP'
    WHEN regexp_matches(lower(url), '^https?://([^/:?#]+\.)?reuters\.com([:/?#]|$)') THEN 'Reuters'
    WHEN regexp_matches(lower(url), '^https?://([^/:?#]+\.)?afp\.com([:/?#]|$)') THEN 'AFP'
END;
