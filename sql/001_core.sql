-- Core tables: feeds and their poll history, the fetch queue, raw pages, articles, stories.

CREATE TABLE feeds (
    url                  VARCHAR PRIMARY KEY,   -- current URL (a 301 moves it)
    configured_url       VARCHAR NOT NULL UNIQUE, -- the URL as written in feeds.toml
    outlet               VARCHAR NOT NULL,
    etag                 VARCHAR,
    last_modified        VARCHAR,
    last_polled_at       TIMESTAMPTZ,
    last_status          VARCHAR,               -- HTTP status or error kind
    last_error           VARCHAR,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    next_poll_at         TIMESTAMPTZ,
    gone                 BOOLEAN NOT NULL DEFAULT FALSE  -- 410: not polled until re-enabled
);

CREATE TABLE feed_polls (
    feed_url     VARCHAR NOT NULL,
    polled_at    TIMESTAMPTZ NOT NULL,
    status       VARCHAR NOT NULL,
    error        VARCHAR,
    entries_seen INTEGER NOT NULL DEFAULT 0,
    entries_new  INTEGER NOT NULL DEFAULT 0,
    bytes        BIGINT NOT NULL DEFAULT 0,
    duration_ms  INTEGER,
    PRIMARY KEY (feed_url, polled_at)
);

-- Every entry a feed listed, as the feed described it.
CREATE TABLE feed_entries (
    feed_url      VARCHAR NOT NULL,
    entry_id      VARCHAR NOT NULL,   -- guid, else canonical link
    url           VARCHAR,            -- canonical link (NULL when the entry had none usable)
    title         VARCHAR,
    author        VARCHAR,
    published_at  TIMESTAMPTZ,
    first_seen_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (feed_url, entry_id)
);

-- One row per article URL still to fetch or already handled; failed fetches retry with backoff.
CREATE TABLE fetch_queue (
    url             VARCHAR PRIMARY KEY,
    feed_url        VARCHAR NOT NULL,
    outlet          VARCHAR NOT NULL,
    feed_title      VARCHAR,
    feed_published_at TIMESTAMPTZ,
    status          VARCHAR NOT NULL,  -- pending | done | failed | refused
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      VARCHAR,
    last_attempt_at TIMESTAMPTZ,
    next_attempt_at TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ NOT NULL
);

-- The response as fetched, zlib-compressed, so extraction can be re-run without refetching.
CREATE TABLE raw_pages (
    url          VARCHAR PRIMARY KEY,
    final_url    VARCHAR NOT NULL,
    http_status  INTEGER NOT NULL,
    content_type VARCHAR,
    fetched_at   TIMESTAMPTZ NOT NULL,
    bytes        BIGINT NOT NULL,
    body_zlib    BLOB NOT NULL
);

-- One row per failed page attempt: what went wrong, for people and for backoff.
CREATE TABLE page_errors (
    url          VARCHAR NOT NULL,
    feed_url     VARCHAR,
    attempted_at TIMESTAMPTZ NOT NULL,
    kind         VARCHAR NOT NULL,
    error        VARCHAR,
    PRIMARY KEY (url, attempted_at)
);

CREATE TABLE articles (
    article_id    VARCHAR PRIMARY KEY,
    url           VARCHAR NOT NULL UNIQUE,
    outlet        VARCHAR NOT NULL,
    feed_url      VARCHAR,
    title         VARCHAR,
    authors       VARCHAR,
    published_at  TIMESTAMPTZ,
    fetched_at    TIMESTAMPTZ NOT NULL,
    text          VARCHAR NOT NULL,
    language      VARCHAR,
    wire_service  VARCHAR,
    story_id      VARCHAR,
    site_name     VARCHAR,
    description   VARCHAR,
    page_url      VARCHAR,   -- the canonical URL the page itself declares
    extracted_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE stories (
    story_id             VARCHAR PRIMARY KEY,
    canonical_article_id VARCHAR NOT NULL,
    wire_service         VARCHAR,
    first_published_at   TIMESTAMPTZ,
    article_count        INTEGER NOT NULL,
    outlet_count         INTEGER NOT NULL
);
