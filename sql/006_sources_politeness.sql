-- Source kinds, adaptive polling, sitemap index children, robots.txt for pages, bot walls.

-- The kind last read from the feed's URL ('rss', 'json', 'sitemap'), and the poll interval the
-- scheduler chose with its reason (shown by `wirecopy status`).
ALTER TABLE feeds ADD COLUMN kind VARCHAR;
ALTER TABLE feeds ADD COLUMN poll_interval_seconds DOUBLE;
ALTER TABLE feeds ADD COLUMN poll_reason VARCHAR;

-- Validators used to be stored from responses that could not be read (a JSON Feed or a sitemap
-- before wirecopy read them): the next 304 then hid the body for good. Forget every stored
-- validator once, so each feed is read in full on its next poll.
UPDATE feeds SET etag = NULL, last_modified = NULL;

-- The anti-bot vendor whose challenge page answered ('Cloudflare', 'DataDome', ...) when status/kind is 'blocked'.
ALTER TABLE feed_polls ADD COLUMN blocked_by VARCHAR;
ALTER TABLE page_errors ADD COLUMN blocked_by VARCHAR;

-- The child sitemaps a sitemap index listed, with what each answered last, so a poll asks only
-- the children that can hold new URLs, each with a conditional GET.
CREATE TABLE sitemap_children (
    feed_url       VARCHAR NOT NULL,      -- the index, as polled
    sitemap_url    VARCHAR NOT NULL,
    index_lastmod  TIMESTAMPTZ,           -- the index entry's lastmod when last read
    listed_at      TIMESTAMPTZ NOT NULL,  -- when the index last listed it (older rows: no longer listed)
    etag           VARCHAR,
    last_modified  VARCHAR,
    read_lastmod   TIMESTAMPTZ,           -- the index lastmod the child was last read at
    last_polled_at TIMESTAMPTZ,
    last_status    VARCHAR,
    updated_at     TIMESTAMPTZ NOT NULL,  -- the poll that wrote this row
    PRIMARY KEY (feed_url, sitemap_url)
);

-- robots.txt per origin (scheme://host:port), as the page fetcher last read it.
CREATE TABLE robots_txt (
    origin      VARCHAR PRIMARY KEY,
    fetched_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    status      INTEGER NOT NULL,       -- HTTP status of robots.txt (0: unreachable)
    fingerprint VARCHAR NOT NULL,       -- hash of what decides access: the body, or the status
    body        VARCHAR                 -- the rules, when status is 200
);

-- A page robots.txt disallows waits as 'disallowed' with the fingerprint of the robots.txt that
-- said so; it is checked again only when that origin's robots.txt has changed.
ALTER TABLE fetch_queue ADD COLUMN robots_fingerprint VARCHAR;
