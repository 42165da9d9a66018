"""Syndication dedup: every copy of a wire story, and its updated versions, share one story.

Method (figures and commands in docs/dedup.md):

1. Normalise each body for hashing. Agency markers go (tasks.wire), then captions, picture
   credits, site furniture and heading-like short lines; case, accents, honorifics ("Mr Han
   said") and British spelling are folded. A paragraph that recurs in 3+ articles of one outlet
   is that outlet's template and is left out of the content.
2. Hash word 4-shingles to 64 bits. A Broder mod-4 sample of them is the inverted index
   (`story_postings`): a text contained in another has its sample contained in the other's
   sample, so a teaser still finds the full story (MinHash/Jaccard LSH would not). Candidates
   share 3+ sampled hashes, 15%+ of the smaller sample, and were published within 14 days.
3. Verify candidates on their full shingle sets (32-bit, kept in `story_docs`):
   'lead' edge: both texts open the same way (one of the first three paragraphs of each is in the
   other, one of the first two on at least one side) and 20%+ of the smaller text is shared:
   trimmed copies, teasers, versions that keep the lead. A follow-up reusing background
   paragraphs lacks the shared opening. A teaser-sized text (under 80 shingles) must keep the
   other's opening as a run: a story that quotes the teaser's lines, with its own paragraphs
   between them, has them all too.
   'body' edge: 60%+ of the smaller text and Jaccard 0.4+ are shared: a rewrite with a new lead.
   Every edge needs 30+ shared shingles, so a widget or one quoted sentence never links stories.
4. Stories are the connected components of the edges. Each edge depends only on the two texts and
   dates and on the outlets' templates; when a template is learnt (or forgotten), the articles
   holding it are re-indexed. So the partition does not depend on arrival order or batching, and
   `rebuild_stories` reproduces it. A story's id is the article_id of its first copy.

Wire attribution: `stories.wire_service` is the wire most copies were detected as (the agency's
own page outranks any count). `articles.wire_service` keeps the per-article detection, so the
evidence is never overwritten by the clustering; view `article_wire` gives the attributed wire.

After changing the normalisation here or in tasks.wire / tasks.clean, run `rebuild_stories`.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Callable, Iterable

import duckdb
import numpy as np
import pyarrow as pa

from tasks.clean import is_boilerplate, is_caption, join_broken_paragraphs, split_lines
from tasks.wire import strip_wire_markers

SHINGLE = 4
SAMPLE_MASK = 3  # mod-4 sampling: a shingle hash is indexed when h & 3 == 0
MIN_SHARED_SAMPLES = 3  # candidate: shares 3+ sampled hashes ...
MIN_SAMPLE_FRACTION = 0.15  # ... and 15%+ of the smaller sample
MIN_SHARED = 30  # an edge needs 30+ shared content shingles (~33 words)
WINDOW_DAYS = 14  # copies and versions of a wire story are published within days of each other
HEAD_PARAS = 3  # paragraphs that make an article's opening
CLOSE_HEAD_PARAS = 2
HEAD_MIN_SHINGLES = 12  # shorter paragraphs (datelines, teaser lines) are not an opening
HEAD_KEPT = 0.6  # an opening paragraph is kept when 60% of its shingles are in the other text
LEAD_CONTAINMENT = 0.2
TEASER_SHINGLES = 80  # a text this short is little evidence: its match must be the other's opening run
BODY_CONTAINMENT = 0.6
BODY_JACCARD = 0.4
TEMPLATE_MIN_ARTICLES = 3
CHUNK = 5000  # articles per pass; bounds memory for big batches and rebuilds

# --- normalisation -------------------------------------------------------------------------

# Matched against the lowercased line, except _AGENCY_PICTURE (agency credits are upper case).
_PICTURE = re.compile("|".join((
    r"(?:ap|afp|reuters|epa|getty|pool|xinhua|bloomberg) (?:photos?|images)\b",
    r"via (?:ap|afp|reuters|epa|getty)\b",
    r"[/,] ?(?:ap|afp|reuters|epa|getty images) ?\)? *$",
    r"^\W*(?:file(?: photo)? *[-–—:]|(?:photo|image|picture|credit)s? *(?:by\b|:|\d))",
    r"image \d+ ?of ?\d+",
    r"in this (?:\S+ ){0,6}?(?:file )?photo\b",
    # AP captions carry the full date ("Monday, July 16, 2018"); stories do not.
    r"day, (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2}, \d{4}\b",
)))
# Substrings one of which every _PICTURE match contains: most lines skip the regex.
_PICTURE_HINTS = ("photo", "image", "via ", "/", "file", "credit", "day, ", ", ap", ", afp", ", reuters", ", epa")
_AGENCY_PICTURE = re.compile(r"\b(?:REUTERS|AFP|EPA) ?/ ?[A-Z]")
_FURNITURE = re.compile(r"subscri|newsletter|cookies|javascript|advertis|\bsign (?:up|in)\b")
_FURNITURE_MAX_WORDS = 40
_DATELINE = re.compile(
    r"^\W*[A-Z][A-Z.'’-]+(?:\s+[A-Z][A-Z.'’-]+){0,3}(?:,\s*[A-Z][\w.]*(?:\s+[A-Z][\w.]*){0,2})?"
    r"\s*(?:\((?:AP|Reuters|AFP)\))?\s*(?:--|[-–—])\s*"
)
_TERMINAL = re.compile(r"""[.!?:;"'”’)]\s*$""")
_TOKEN = re.compile(r"[^\W_]+")
_HONORIFICS = frozenset({"mr", "mrs", "ms", "mx", "messrs"})
_SPELLING = {
    "defence": "defense", "offence": "offense", "licence": "license", "pretence": "pretense",
    "programme": "program", "programmes": "programs", "grey": "gray", "tyre": "tire", "tyres": "tires",
    "aluminium": "aluminum", "cheque": "check", "judgement": "judgment", "ageing": "aging",
    "sceptical": "skeptical", "sceptic": "skeptic", "manoeuvre": "maneuver", "catalogue": "catalog",
    "dialogue": "dialog", "enquiry": "inquiry", "kerb": "curb", "plough": "plow", "storey": "story",
    "draught": "draft", "whilst": "while", "amongst": "among", "jewellery": "jewelry", "mum": "mom",
}
# Applied to every token of every text, so over-folding ("four" -> "for") costs nothing.
_SUFFIXES = [
    (re.compile(r"(?<=\w\w)our(s|ed|ing|ite|ites|able|ful|less)?$"), r"or\1"),  # colour, favourite
    (re.compile(r"(?<=\w\w)is(e|es|ed|ing|ation|ations|er|ers)$"), r"iz\1"),  # organise, realisation
    (re.compile(r"(?<=\w\w)ys(e|es|ed|ing)$"), r"yz\1"),  # analyse
    (re.compile(r"(?<=\w\w[^aeiou])tre(s)?$"), r"ter\1"),  # centre, metres
    (re.compile(r"(?<=\w[aeiou])ll(ed|ing|er|ers)$"), r"l\1"),  # travelled, cancelling
    (re.compile(r"ae|oe(?=\w)"), "e"),  # paediatric, manoeuvre, oestrogen
]


def _is_picture(line: str, low: str) -> bool:
    """A photo caption or picture credit (beyond tasks.clean's), e.g. AP's "(AP Photo/Name, File)"."""
    return ((any(h in low for h in _PICTURE_HINTS) and _PICTURE.search(low) is not None)
            or ("/" in line and _AGENCY_PICTURE.search(line) is not None))


def _content_lines(text: str) -> list[str]:
    """Body lines worth hashing: no agency markers, captions, credits, furniture or headings.

    Pieces of a paragraph cut around a link are joined again first, or the short first piece
    would be dropped as a heading.
    """
    lines = []
    for line in split_lines(strip_wire_markers(text)):
        low = line.lower()
        if _is_picture(line, low) or is_caption(line) or is_boilerplate(line):
            continue
        if len(line.split()) <= _FURNITURE_MAX_WORDS and _FURNITURE.search(low):
            continue
        lines.append(line)
    kept = []
    for line in join_broken_paragraphs(lines):
        line = _DATELINE.sub("", line, count=1)
        words = len(line.split())
        if words < 4 or (words < 10 and not _TERMINAL.search(line)):
            continue
        kept.append(line)
    return kept


@lru_cache(maxsize=1 << 18)
def _token_hash(raw: str) -> int:
    """64-bit hash of a folded token (accents, British spelling); 0 for honorifics, which are dropped."""
    if not raw.isascii():
        raw = "".join(c for c in unicodedata.normalize("NFKD", raw) if not unicodedata.combining(c))
    token = _SPELLING.get(raw, raw)
    if token in _HONORIFICS:
        return 0
    for pattern, replacement in _SUFFIXES:
        token = pattern.sub(replacement, token)
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little") | 1


def _token_hashes(line: str) -> np.ndarray:
    return np.array([h for h in map(_token_hash, _TOKEN.findall(line.lower())) if h], dtype=np.uint64)


_MULT = np.uint64(0x9E3779B97F4A7C15)


def _shingles(tokens: np.ndarray) -> np.ndarray:
    """Sorted distinct 64-bit hashes of the word 4-shingles (polynomial hash, splitmix finaliser)."""
    n = len(tokens) - SHINGLE + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint64)
    with np.errstate(over="ignore"):
        h = np.zeros(n, dtype=np.uint64)
        for j in range(SHINGLE):
            h = h * _MULT + tokens[j:j + n]
        h ^= h >> np.uint64(30)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(27)
        h *= np.uint64(0x94D049BB133111EB)
        h ^= h >> np.uint64(31)
    return np.unique(h)


@dataclass
class _Doc:
    """One article as dedup sees it.

    `shingles` (sorted distinct 32-bit shingle hashes of the content) and `heads` (the same for the
    opening paragraphs) are what the pair decision reads; they are stored in story_docs so that a
    stored article is never re-parsed when it turns up as a candidate. `samples` are the 64-bit
    hashes that go into story_postings.
    """

    article_id: str
    outlet: str
    day: int = 0  # publication day (fetch day when unknown), for the candidate window
    paragraphs: tuple[tuple[int, np.ndarray], ...] = ()  # (outlet paragraph key, token hashes)
    shingles: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint32))
    heads: list[np.ndarray] = field(default_factory=list)
    samples: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def set_content(self, template: set[int]) -> None:
        paragraphs = [t for key, t in self.paragraphs if key not in template]
        full = _shingles(np.concatenate(paragraphs)) if paragraphs else np.zeros(0, dtype=np.uint64)
        self.samples = full[(full & np.uint64(SAMPLE_MASK)) == 0].view(np.int64)
        self.shingles = _short(full)
        self.heads = []
        for tokens in paragraphs:
            own = _shingles(tokens)
            if len(own) >= HEAD_MIN_SHINGLES:
                self.heads.append(_short(own))
                if len(self.heads) == HEAD_PARAS:
                    break

    def packed_heads(self) -> bytes:
        """[count, sizes..., hashes...] as uint32."""
        parts = [np.array([len(self.heads), *map(len, self.heads)], dtype=np.uint32), *self.heads]
        return np.concatenate(parts).tobytes()

    @classmethod
    def stored(cls, article_id: str, outlet: str, shingles: bytes, heads: bytes) -> _Doc:
        packed = np.frombuffer(heads, dtype=np.uint32)
        count = int(packed[0])
        bounds = np.cumsum(np.concatenate([[count + 1], packed[1:count + 1]])).astype(int)
        return cls(article_id, outlet, shingles=np.frombuffer(shingles, dtype=np.uint32),
                   heads=[packed[a:b] for a, b in zip(bounds[:-1], bounds[1:])])


def _short(hashes: np.ndarray) -> np.ndarray:
    """Sorted distinct top 32 bits: plenty to compare two articles, half the storage."""
    return np.unique((hashes >> np.uint64(32)).astype(np.uint32))


def _parse(article_id: str, outlet: str, day: int, text: str) -> _Doc:
    """Tokenise the content lines; paragraph keys include the outlet, for template counting."""
    paragraphs = []
    for line in _content_lines(text):
        tokens = _token_hashes(line)
        if len(tokens):
            digest = hashlib.blake2b(outlet.encode() + b"\0" + tokens.tobytes(), digest_size=8).digest()
            paragraphs.append((int.from_bytes(digest, "little", signed=True), tokens))
    return _Doc(article_id, outlet, day, tuple(paragraphs))


# --- pair decision -------------------------------------------------------------------------

@dataclass(frozen=True)
class _Edge:
    a: str
    b: str
    shared: int
    containment: float
    jaccard: float
    rule: str


def _heads_kept(heads: list[np.ndarray], other: np.ndarray) -> list[bool]:
    return [np.isin(h, other, assume_unique=True).mean() >= HEAD_KEPT for h in heads]


def _opening_kept(heads: list[np.ndarray], other: np.ndarray, n: int) -> bool:
    return any(_heads_kept(heads[:n], other))


def _opening_run_kept(heads: list[np.ndarray], other: np.ndarray) -> bool:
    """The opening paragraphs `other` keeps form one run (after any new lead): a teaser is the start
    of its story, not lines picked from here and there."""
    kept = "".join("x" if k else "." for k in _heads_kept(heads, other))
    return "." not in kept.strip(".")


def _match(x: _Doc, y: _Doc) -> _Edge | None:
    """The copy relation between two articles, or None (see the module docstring)."""
    if len(x.shingles) < MIN_SHARED or len(y.shingles) < MIN_SHARED:
        return None
    shared = len(np.intersect1d(x.shingles, y.shingles, assume_unique=True))
    if shared < MIN_SHARED:
        return None
    containment = shared / min(len(x.shingles), len(y.shingles))
    jaccard = shared / (len(x.shingles) + len(y.shingles) - shared)
    rule = None
    if containment >= BODY_CONTAINMENT and jaccard >= BODY_JACCARD:
        rule = "body"
    elif (containment >= LEAD_CONTAINMENT
          and _opening_kept(x.heads, y.shingles, HEAD_PARAS) and _opening_kept(y.heads, x.shingles, HEAD_PARAS)
          and (_opening_kept(x.heads, y.shingles, CLOSE_HEAD_PARAS)
               or _opening_kept(y.heads, x.shingles, CLOSE_HEAD_PARAS))):
        rule = "lead"
        small, large = sorted((x, y), key=lambda d: len(d.shingles))
        if len(small.shingles) < TEASER_SHINGLES and not _opening_run_kept(large.heads, small.shingles):
            rule = None
    if rule is None:
        return None
    a, b = sorted((x.article_id, y.article_id))
    return _Edge(a, b, shared, round(containment, 4), round(jaccard, 4), rule)


# --- index maintenance ---------------------------------------------------------------------

class _Registered:
    """Arrow tables visible to SQL by name for the duration of a block."""

    def __init__(self, con: duckdb.DuckDBPyConnection, **tables: pa.Table) -> None:
        self.con, self.tables = con, tables

    def __enter__(self) -> None:
        for name, table in self.tables.items():
            self.con.register(name, table)

    def __exit__(self, *exc: object) -> None:
        for name in self.tables:
            self.con.unregister(name)


def _ids(ids: Iterable[str]) -> pa.Table:
    return pa.table({"article_id": pa.array(sorted(set(ids)), pa.string())})


def _keys(keys: Iterable[int]) -> pa.Table:
    return pa.table({"key": pa.array(sorted(set(keys)), pa.int64())})


def _parse_stored(con: duckdb.DuckDBPyConnection, ids: Iterable[str]) -> dict[str, _Doc]:
    with _Registered(con, dedup_ids=_ids(ids)):
        rows = con.execute(
            """SELECT a.article_id, a.outlet, a.text,
                      CAST(epoch(COALESCE(a.published_at, a.fetched_at)) // 86400 AS INTEGER) AS day
               FROM articles a JOIN dedup_ids USING (article_id)""").fetchall()
    return {aid: _parse(aid, outlet, day, text) for aid, outlet, text, day in rows}


def _key_counts(con: duckdb.DuckDBPyConnection, keys: Iterable[int]) -> dict[int, int]:
    with _Registered(con, dedup_keys=_keys(keys)):
        return dict(con.execute(
            "SELECT key, count(*) FROM story_paragraphs WHERE key IN (SELECT key FROM dedup_keys) GROUP BY key"
        ).fetchall())


def _update_paragraphs(con: duckdb.DuckDBPyConnection, docs: dict[str, _Doc], indexed: set[str]) -> set[int]:
    """Replace these articles' paragraph rows; return the outlet-paragraph keys that are templates.

    Other articles holding a key that becomes (or stops being) a template are parsed and added to
    `docs`: their content changed, so they are re-indexed with the batch.
    """
    new = {d.article_id: {key for key, _ in d.paragraphs} for d in docs.values()}
    old: dict[str, set[int]] = {}
    if indexed:
        with _Registered(con, dedup_ids=_ids(indexed)):
            rows = con.execute("SELECT article_id, key FROM story_paragraphs JOIN dedup_ids USING (article_id)")
            for aid, key in rows.fetchall():
                old.setdefault(aid, set()).add(key)
    before = _key_counts(con, set().union(*new.values(), *old.values()))
    after = dict(before)
    for keys, sign in [(k, -1) for k in old.values()] + [(k, 1) for k in new.values()]:
        for key in keys:
            after[key] = after.get(key, 0) + sign
    crossed = {k for k, n in after.items()
               if (n >= TEMPLATE_MIN_ARTICLES) != (before.get(k, 0) >= TEMPLATE_MIN_ARTICLES)}
    with _Registered(con, dedup_ids=_ids(docs), dedup_keys=_keys(crossed)):
        affected = {r[0] for r in con.execute(
            """SELECT DISTINCT article_id FROM story_paragraphs WHERE key IN (SELECT key FROM dedup_keys)
               AND article_id NOT IN (SELECT article_id FROM dedup_ids)""").fetchall()} if crossed else set()
        if old:
            con.execute("DELETE FROM story_paragraphs WHERE article_id IN (SELECT article_id FROM dedup_ids)")
    rows = sorted((key, aid) for aid, keys in new.items() for key in keys)
    table = pa.table({"key": pa.array([k for k, _ in rows], pa.int64()),
                      "article_id": pa.array([a for _, a in rows], pa.string())})
    with _Registered(con, dedup_paras=table):
        con.execute("INSERT INTO story_paragraphs SELECT key, article_id FROM dedup_paras")
    template = {k for k, n in after.items() if n >= TEMPLATE_MIN_ARTICLES}
    if affected:
        others = _parse_stored(con, affected)
        extra = {key for d in others.values() for key, _ in d.paragraphs} - after.keys()
        template |= {k for k, n in _key_counts(con, extra).items() if n >= TEMPLATE_MIN_ARTICLES}
        docs.update(others)
    return template


def _drop_index_rows(con: duckdb.DuckDBPyConnection, ids: Iterable[str]) -> None:
    with _Registered(con, dedup_ids=_ids(ids)):
        con.execute("""DELETE FROM story_postings WHERE doc_id IN
                       (SELECT doc_id FROM story_docs JOIN dedup_ids USING (article_id))""")
        con.execute("DELETE FROM story_docs WHERE article_id IN (SELECT article_id FROM dedup_ids)")
        con.execute("""DELETE FROM story_edges WHERE a IN (SELECT article_id FROM dedup_ids)
                       OR b IN (SELECT article_id FROM dedup_ids)""")


def _index(con: duckdb.DuckDBPyConnection, docs: list[_Doc]) -> np.ndarray:
    """Insert docs and their sampled postings; returns the doc_ids given out, in `docs` order."""
    first = con.execute("SELECT COALESCE(max(doc_id), 0) + 1 FROM story_docs").fetchone()[0]
    doc_ids = np.arange(first, first + len(docs), dtype=np.int64)
    meta = pa.table({
        "article_id": pa.array([d.article_id for d in docs], pa.string()),
        "doc_id": pa.array(doc_ids),
        "outlet": pa.array([d.outlet for d in docs], pa.string()),
        "n_shingles": pa.array([len(d.shingles) for d in docs], pa.int32()),
        "n_samples": pa.array([len(d.samples) for d in docs], pa.int32()),
        "shingles": pa.array([d.shingles.tobytes() for d in docs], pa.binary()),
        "heads": pa.array([d.packed_heads() for d in docs], pa.binary()),
    })
    postings = pa.table({
        "h": pa.array(np.concatenate([d.samples for d in docs])),
        "doc_id": pa.array(np.repeat(doc_ids, [len(d.samples) for d in docs])),
        "day": pa.array(np.repeat(np.array([d.day for d in docs], dtype=np.int32),
                                  [len(d.samples) for d in docs])),
    })
    with _Registered(con, dedup_meta=meta, dedup_postings=postings):
        con.execute("INSERT INTO story_docs SELECT * FROM dedup_meta")
        con.execute("INSERT INTO story_postings SELECT * FROM dedup_postings")
    return doc_ids


def _candidates(con: duckdb.DuckDBPyConnection, docs: list[_Doc], doc_ids: np.ndarray) -> list[tuple[str, str]]:
    """Pairs (new article, indexed article within the window) sharing enough sampled hashes.

    The window keeps the cost flat as the database grows: common phrases are shared by a number of
    articles proportional to the database, the copies of a story only by those of a few days. New
    articles are queried in groups of nearby days, so that the constant day range of each query
    lets DuckDB skip old row groups of story_postings (an old article re-indexed because its
    outlet's template changed gets a query of its own).
    """
    first, last = int(doc_ids.min()), int(doc_ids.max())
    order = sorted(zip((d.day for d in docs), doc_ids.tolist()))
    groups = [[order[0]]] if order else []
    for day, doc_id in order[1:]:
        if day - groups[-1][-1][0] > WINDOW_DAYS:
            groups.append([])
        groups[-1].append((day, doc_id))
    con.execute("CREATE OR REPLACE TEMP TABLE dedup_hits (qd BIGINT, cd BIGINT, shared BIGINT)")
    for group in groups:
        with _Registered(con, dedup_group=pa.table({"doc_id": pa.array([d for _, d in group], pa.int64())})):
            con.execute(
                """INSERT INTO dedup_hits
                   WITH q AS (SELECT h, doc_id, day FROM story_postings
                              WHERE doc_id BETWEEN $first AND $last
                                AND doc_id IN (SELECT doc_id FROM dedup_group))
                   SELECT q.doc_id, p.doc_id, count(*)
                   FROM q JOIN story_postings p ON p.h = q.h
                   WHERE p.day BETWEEN $lo AND $hi AND abs(p.day - q.day) <= $window AND p.doc_id <> q.doc_id
                     AND NOT (p.doc_id BETWEEN $first AND $last AND p.doc_id < q.doc_id)
                   GROUP BY ALL HAVING count(*) >= $min_shared""",
                {"first": first, "last": last, "lo": group[0][0] - WINDOW_DAYS, "hi": group[-1][0] + WINDOW_DAYS,
                 "window": WINDOW_DAYS, "min_shared": MIN_SHARED_SAMPLES},
            )
    pairs = con.execute(
        """SELECT dq.article_id, dc.article_id
           FROM dedup_hits h JOIN story_docs dq ON dq.doc_id = h.qd JOIN story_docs dc ON dc.doc_id = h.cd
           WHERE h.shared >= $fraction * least(dq.n_samples, dc.n_samples)""",
        {"fraction": MIN_SAMPLE_FRACTION}).fetchall()
    con.execute("DROP TABLE dedup_hits")
    return pairs


def _stored_docs(con: duckdb.DuckDBPyConnection, ids: Iterable[str]) -> dict[str, _Doc]:
    with _Registered(con, dedup_ids=_ids(ids)):
        rows = con.execute("""SELECT article_id, outlet, shingles, heads FROM story_docs
                              WHERE article_id IN (SELECT article_id FROM dedup_ids)""").fetchall()
    return {r[0]: _Doc.stored(*r) for r in rows}


def _insert_edges(con: duckdb.DuckDBPyConnection, edges: list[_Edge]) -> None:
    table = pa.table({
        "a": pa.array([e.a for e in edges], pa.string()), "b": pa.array([e.b for e in edges], pa.string()),
        "shared": pa.array([e.shared for e in edges], pa.int32()),
        "containment": pa.array([e.containment for e in edges], pa.float64()),
        "jaccard": pa.array([e.jaccard for e in edges], pa.float64()),
        "rule": pa.array([e.rule for e in edges], pa.string()),
    })
    with _Registered(con, dedup_edges=table):
        con.execute("INSERT INTO story_edges SELECT * FROM dedup_edges")


# --- clustering and the stories rows -------------------------------------------------------

_STORY_ROWS = """
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
GROUP BY m.story_id, c.article_id, w.wire
"""


def connected_components(items: Iterable[str], links: Iterable[tuple[str, str]],
                         key: Callable[[str], Any] | None = None) -> dict[str, str]:
    """Each item's component, named by its smallest member under `key` (the earliest copy names
    the story), so the names do not depend on the order of the links."""
    parent = {i: i for i in items}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in links:
        ra, rb = root(a), root(b)
        if ra != rb:
            first, second = sorted((ra, rb), key=key)
            parent[second] = first
    return {i: root(i) for i in parent}


def _recluster(con: duckdb.DuckDBPyConnection, touched: set[str]) -> None:
    """Recompute the components holding `touched` articles and rewrite their stories rows."""
    with _Registered(con, dedup_ids=_ids(touched)):
        con.execute(
            """CREATE OR REPLACE TEMP TABLE dedup_old AS
               SELECT DISTINCT story_id FROM articles
               WHERE article_id IN (SELECT article_id FROM dedup_ids) AND story_id IS NOT NULL""")
        members = con.execute(
            """SELECT article_id, story_id, COALESCE(published_at, fetched_at) FROM articles
               WHERE article_id IN (SELECT article_id FROM dedup_ids)
                  OR story_id IN (SELECT story_id FROM dedup_old)""").fetchall()
    order: dict[str, tuple[datetime, str]] = {aid: (t, aid) for aid, _, t in members}
    with _Registered(con, dedup_ids=_ids(order)):
        edges = con.execute(
            "SELECT a, b FROM story_edges WHERE a IN (SELECT article_id FROM dedup_ids)").fetchall()
    story = connected_components(order, edges, key=order.__getitem__)
    assignment = pa.table({
        "article_id": pa.array(list(order), pa.string()),
        "story_id": pa.array([story[aid] for aid in order], pa.string()),
    })
    with _Registered(con, dedup_assign=assignment):
        con.execute("""UPDATE articles SET story_id = n.story_id FROM dedup_assign n
                       WHERE articles.article_id = n.article_id
                         AND articles.story_id IS DISTINCT FROM n.story_id""")
        con.execute("""CREATE OR REPLACE TEMP TABLE dedup_story_ids AS
                       SELECT DISTINCT story_id FROM dedup_assign""")
    con.execute("""DELETE FROM stories WHERE story_id IN (SELECT story_id FROM dedup_old)
                   OR story_id IN (SELECT story_id FROM dedup_story_ids)""")
    con.execute(_STORY_ROWS)
    con.execute("DROP TABLE dedup_old")
    con.execute("DROP TABLE dedup_story_ids")


def _assign_chunk(con: duckdb.DuckDBPyConnection, ids: list[str]) -> None:
    docs = _parse_stored(con, ids)
    if not docs:
        return
    with _Registered(con, dedup_ids=_ids(docs)):
        indexed = {r[0] for r in con.execute(
            "SELECT article_id FROM story_docs WHERE article_id IN (SELECT article_id FROM dedup_ids)").fetchall()}
    template = _update_paragraphs(con, docs, indexed)  # may add articles whose templates changed
    indexed |= docs.keys() - set(ids)
    if indexed:
        _drop_index_rows(con, indexed)
    for doc in docs.values():
        doc.set_content(template)
    indexing = list(docs.values())
    pairs = _candidates(con, indexing, _index(con, indexing))
    known = _stored_docs(con, {aid for pair in pairs for aid in pair} - docs.keys()) | docs
    edges = [e for a, b in pairs if (e := _match(known[a], known[b])) is not None]
    _insert_edges(con, edges)
    _recluster(con, set(docs) | {aid for e in edges for aid in (e.a, e.b)})


def assign_stories(con: duckdb.DuckDBPyConnection, article_ids: list[str]) -> None:
    """Give these new or changed articles their stories; runs inside the load transaction.

    An article assigned before is re-indexed from its current text: its old postings and edges
    go, and the story it left is re-split if it no longer holds together (or deleted if empty).
    """
    ids = sorted(set(article_ids))
    for start in range(0, len(ids), CHUNK):
        _assign_chunk(con, ids[start:start + CHUNK])


def rebuild_stories(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute every story from the stored articles (after a normalisation change, or to check).

    Articles are fed in publication order through the incremental path; since the partition does
    not depend on order or batching, the result equals what incremental ingest produced. Call it
    inside a transaction, as the rebuild-stories flow does.
    """
    for table in ("story_postings", "story_docs", "story_paragraphs", "story_edges", "stories"):
        con.execute(f"DELETE FROM {table}")
    con.execute("UPDATE articles SET story_id = NULL WHERE story_id IS NOT NULL")
    ids = [r[0] for r in con.execute(
        "SELECT article_id FROM articles ORDER BY COALESCE(published_at, fetched_at), article_id").fetchall()]
    for start in range(0, len(ids), CHUNK):
        _assign_chunk(con, ids[start:start + CHUNK])
