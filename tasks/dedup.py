"""Syndication dedup: every copy of a wire story, and its updated versions, share one story.

Method (figures and commands in docs/dedup.md):

1. Normalise each body for hashing. Agency markers go (tasks.wire), then captions, picture
   credits, site furniture and heading-like short lines; case, accents, honorifics ("Mr Han
   said") and British spelling are folded. A paragraph whose holders are mostly not copies of
   one another (they share little else) is furniture and is left out of the content.
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
4. Stories: each connected component of the edges is partitioned by correlation clustering (a
   story is a group most of whose pairs are edges, not a chain), digests holding several stories
   stand alone, and a lone copy whose edges reach one story joins it. Each edge depends only on
   the two texts and dates and on the furniture; when furniture is learnt (or forgotten), the
   articles holding it are re-indexed; the clustering depends only on the component's graph. So
   the partition does not depend on arrival order or batching, and `rebuild_stories` reproduces
   it. A story's id is the article_id of its first copy.

Wire attribution: `stories.wire_service` is the wire most copies were detected as (the agency's
own page outranks any count). `articles.wire_service` keeps the per-article detection, so the
evidence is never overwritten by the clustering; view `article_wire` gives the attributed wire.

After changing the normalisation here or in tasks.wire / tasks.clean, run `rebuild_stories`.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from tasks.clean import is_boilerplate, is_caption, join_broken_paragraphs, split_lines
from tasks.db import scalar, sql
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
FURNITURE_MIN_OTHERS = 2  # a page holding a paragraph is evidence when it has this much else
FURNITURE_PAIRED = 0.25
FURNITURE_SAMPLE = 30  # holders of a paragraph compared, at most
CHUNK = 5000  # articles per pass; bounds memory for big batches and rebuilds
STORY_INDEX_METHOD = 2  # raise when the keys or hashes stored in the index change meaning

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
    paragraphs: tuple[tuple[int, np.ndarray], ...] = ()  # (paragraph key, token hashes)
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
                   heads=[packed[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)])


def _short(hashes: np.ndarray) -> np.ndarray:
    """Sorted distinct top 32 bits: plenty to compare two articles, half the storage."""
    return np.unique((hashes >> np.uint64(32)).astype(np.uint32))


def _parse(article_id: str, outlet: str, day: int, text: str) -> _Doc:
    """Tokenise the content lines; a paragraph's key is its normalised text, whatever the outlet."""
    paragraphs = []
    for line in _content_lines(text):
        tokens = _token_hashes(line)
        if len(tokens):
            digest = hashlib.blake2b(tokens.tobytes(), digest_size=8).digest()
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
        rows = con.execute(sql("story_article_texts")).fetchall()
    return {aid: _parse(aid, outlet, day, text) for aid, outlet, text, day in rows}


def _furniture(holders: list[set[int]], key: int) -> bool:
    """Whether a paragraph is furniture, judged by the pages that hold it (their paragraph keys).

    Copies of a story that share a paragraph share much of the rest too; furniture (a widget, a
    header and footer, a sign-up line, a quote many stories repeat) sits beside text that differs.
    A pair of holders are copies when they share a quarter of their paragraphs, beyond the block
    every holder has (with three holders or more, a common header and footer is that block). The
    paragraph is furniture when most holders with other content are copies of no other holder:
    learnt from two pages, of one outlet or many. A digest quoting a story's lead does not make
    the lead furniture, since the story's copies still pair up."""
    pages = [h for h in holders if len(h - {key}) >= FURNITURE_MIN_OTHERS]
    if len(pages) < 2:
        return False
    block = set.intersection(*pages) if len(pages) > 2 else {key}
    rest = [h - block for h in pages]
    paired = sum(any(len(x & y) >= FURNITURE_PAIRED * min(len(x), len(y)) for j, y in enumerate(rest) if j != i)
                 for i, x in enumerate(rest))
    return 2 * paired < len(rest)


def _furniture_keys(con: duckdb.DuckDBPyConnection, keys: Iterable[int]) -> set[int]:
    """The keys among `keys` that are furniture, from story_paragraphs as it stands. A key's holders
    are a sample fixed by the holder set (smallest hashes), so the verdict does not depend on order."""
    with _Registered(con, dedup_keys=_keys(keys)):
        con.execute(sql("sample_paragraph_holders"), {"sample": FURNITURE_SAMPLE})
        held = con.execute(sql("paragraph_holders")).to_arrow_table()
        pages = con.execute(sql("paragraphs_of_holders")).to_arrow_table()
        con.execute(sql("drop_table", table="dedup_holders"))
    paragraphs: dict[str, set[int]] = {}
    for aid, key in zip(pages.column(0).to_pylist(), pages.column(1).to_pylist(), strict=True):
        paragraphs.setdefault(aid, set()).add(key)
    holders: dict[int, list[set[int]]] = {}
    for key, aid in zip(held.column(0).to_pylist(), held.column(1).to_pylist(), strict=True):
        holders.setdefault(key, []).append(paragraphs[aid])
    return {key for key, sets in holders.items() if len(sets) > 1 and _furniture(sets, key)}


def _update_paragraphs(con: duckdb.DuckDBPyConnection, docs: dict[str, _Doc], indexed: set[str]) -> set[int]:
    """Replace these articles' paragraph rows; return the paragraph keys that are furniture.

    Other articles holding a key that becomes (or stops being) furniture are parsed and added to
    `docs`: their content changed, so they are re-indexed with the batch.
    """
    new = {d.article_id: {key for key, _ in d.paragraphs} for d in docs.values()}
    old: dict[str, set[int]] = {}
    if indexed:
        with _Registered(con, dedup_ids=_ids(indexed)):
            for aid, key in con.execute(sql("paragraphs_of_articles")).fetchall():
                old.setdefault(aid, set()).add(key)
    relevant = set().union(*new.values(), *old.values())
    before = _furniture_keys(con, relevant)
    if old:
        with _Registered(con, dedup_ids=_ids(old)):
            con.execute(sql("delete_paragraphs_of_articles"))
    rows = sorted((key, aid) for aid, keys in new.items() for key in keys)
    table = pa.table({"key": pa.array([k for k, _ in rows], pa.int64()),
                      "article_id": pa.array([a for _, a in rows], pa.string())})
    with _Registered(con, dedup_paras=table):
        con.execute(sql("insert_paragraphs"))
    furniture = _furniture_keys(con, relevant)
    crossed = before ^ furniture
    if crossed:
        with _Registered(con, dedup_ids=_ids(docs), dedup_keys=_keys(crossed)):
            affected = {r[0] for r in con.execute(sql("articles_holding_paragraphs")).fetchall()}
        if affected:
            others = _parse_stored(con, affected)
            extra = {key for d in others.values() for key, _ in d.paragraphs} - relevant
            furniture |= _furniture_keys(con, extra)
            docs.update(others)
    return furniture


def _drop_index_rows(con: duckdb.DuckDBPyConnection, ids: Iterable[str]) -> None:
    with _Registered(con, dedup_ids=_ids(ids)):
        con.execute(sql("delete_story_index_of_articles"))


def _index(con: duckdb.DuckDBPyConnection, docs: list[_Doc]) -> np.ndarray:
    """Insert docs and their sampled postings; returns the doc_ids given out, in `docs` order."""
    first = scalar(con, "next_story_doc_id")
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
        con.execute(sql("insert_story_index"))
    return doc_ids


def _candidates(con: duckdb.DuckDBPyConnection, docs: list[_Doc], doc_ids: np.ndarray) -> list[tuple[str, str]]:
    """Pairs (new article, indexed article within the window) sharing enough sampled hashes.

    The window keeps the cost flat as the database grows: common phrases are shared by a number of
    articles proportional to the database, the copies of a story only by those of a few days. New
    articles are queried in groups of nearby days, so that the constant day range of each query
    lets DuckDB skip old row groups of story_postings (an old article re-indexed because its
    furniture changed gets a query of its own).
    """
    first, last = int(doc_ids.min()), int(doc_ids.max())
    order = sorted(zip((d.day for d in docs), doc_ids.tolist(), strict=True))
    groups = [[order[0]]] if order else []
    for day, doc_id in order[1:]:
        if day - groups[-1][-1][0] > WINDOW_DAYS:
            groups.append([])
        groups[-1].append((day, doc_id))
    con.execute(sql("create_candidate_hits"))
    for group in groups:
        with _Registered(con, dedup_group=pa.table({"doc_id": pa.array([d for _, d in group], pa.int64())})):
            con.execute(
                sql("insert_candidate_hits"),
                {"first": first, "last": last, "lo": group[0][0] - WINDOW_DAYS, "hi": group[-1][0] + WINDOW_DAYS,
                 "window": WINDOW_DAYS, "min_shared": MIN_SHARED_SAMPLES},
            )
    pairs = con.execute(sql("candidate_pairs"), {"fraction": MIN_SAMPLE_FRACTION}).fetchall()
    con.execute(sql("drop_table", table="dedup_hits"))
    return pairs


def _stored_docs(con: duckdb.DuckDBPyConnection, ids: Iterable[str]) -> dict[str, _Doc]:
    with _Registered(con, dedup_ids=_ids(ids)):
        rows = con.execute(sql("story_docs_of_articles")).fetchall()
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
        con.execute(sql("insert_story_edges"))


# --- clustering and the stories rows -------------------------------------------------------

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


# A cluster takes an article (or another cluster) only when the copy edges between them outweigh
# the missing ones at this rate: more than a quarter of the pairs must be linked. One wrong edge
# never joins two stories of two or more copies each, and a new copy must match several members.
MISSING_EDGE_COST = 1 / 3
DIGEST_PART = 0.5  # a page sharing a minor part of itself with each of two unlinked groups ...
DIGEST_OVERLAP = 0.2  # ... parts that overlap this little, holds two stories


def _gain(links: int, size_a: int, size_b: int) -> float:
    return links - MISSING_EDGE_COST * (size_a * size_b - links)


def _cluster(nodes: list[str], edges: set[tuple[str, str]]) -> list[int]:
    """Correlation clustering of one component: each node's cluster number.

    Greedy agglomeration (always the merge with the largest gain, ties to the earliest nodes), then
    single-node moves until none helps. Deterministic in the node order, which is publication
    order: the result depends on the graph only, not on arrival or batching."""
    index = {n: i for i, n in enumerate(nodes)}
    neighbours: list[set[int]] = [set() for _ in nodes]
    for a, b in edges:
        neighbours[index[a]].add(index[b])
        neighbours[index[b]].add(index[a])
    label = list(range(len(nodes)))
    members: dict[int, set[int]] = {i: {i} for i in range(len(nodes))}
    links: dict[tuple[int, int], int] = {}
    for i, near in enumerate(neighbours):
        for j in near:
            if i < j:
                links[(i, j)] = links.get((i, j), 0) + 1
    while True:
        best = max(((_gain(n, len(members[a]), len(members[b])), -a, -b) for (a, b), n in links.items()),
                   default=None)
        if best is None or best[0] <= 0:
            break
        keep, gone = -best[1], -best[2]
        for i in members[gone]:
            label[i] = keep
        members[keep] |= members.pop(gone)
        merged: dict[tuple[int, int], int] = {}
        for (x, y), n in links.items():
            x, y = (keep if x == gone else x), (keep if y == gone else y)
            if x != y:
                key = (min(x, y), max(x, y))
                merged[key] = merged.get(key, 0) + n
        links = merged
    fresh = len(nodes)
    for _ in range(len(nodes)):  # single-node moves, each lowering the disagreements, until none does
        moved = False
        for i in range(len(nodes)):
            own, links_to = label[i], Counter(label[j] for j in neighbours[i])

            def cost(c: int | None, i: int = i, own: int = own, links_to: Counter[int] = links_to) -> float:
                # node i's disagreements in cluster c (None: alone)
                inside = links_to.get(c, 0) if c is not None else 0
                size = len(members[c]) - (c == own) if c is not None else 0
                return len(neighbours[i]) - inside + MISSING_EDGE_COST * (size - inside)

            target = min([*sorted(links_to), None], key=cost)
            if cost(target) < cost(own) - 1e-9:
                if target is None:
                    target, fresh = fresh, fresh + 1
                members[own].discard(i)
                members.setdefault(target, set()).add(i)
                label[i], moved = target, True
        if not moved:
            break
    return label


def _digests(nodes: list[str], edges: set[tuple[str, str]], shingles: dict[str, np.ndarray]) -> set[str]:
    """Pages that hold two stories or more (news in brief, running files, round-ups).

    A page is one when its copy edges reach two groups of articles that have no edge between
    them, what it shares with each group is a minor part of it, and those parts barely overlap:
    they are different stories. A full story is not one: the copies it shares text with are linked
    to each other, and a rewrite of it shares most of it."""
    neighbours: dict[str, set[str]] = {n: set() for n in nodes}
    for a, b in edges:
        neighbours[a].add(b)
        neighbours[b].add(a)
    found = set()
    for node in nodes:
        near = neighbours[node]
        if len(near) < 2:
            continue
        group = connected_components(near, [(a, b) for a in near for b in neighbours[a] & near if a < b])
        members: dict[str, list[str]] = {}
        for other, root in group.items():
            members.setdefault(root, []).append(other)
        parts = []
        for _, linked in sorted(members.items()):
            part = np.unique(np.concatenate(
                [np.intersect1d(shingles[node], shingles[o], assume_unique=True) for o in linked]))
            if len(part) <= DIGEST_PART * len(shingles[node]):
                parts.append(part)
        if any(len(np.intersect1d(x, y, assume_unique=True)) <= DIGEST_OVERLAP * min(len(x), len(y))
               for i, x in enumerate(parts) for y in parts[i + 1:]):
            found.add(node)
    return found


def _attach_leaves(nodes: list[str], edges: set[tuple[str, str]], label: list[int],
                   shingles: dict[str, np.ndarray]) -> list[int]:
    """An article left alone whose copy edges all reach one story, and one of them says it is
    mostly a copy of that member (a teaser, a video page's text), joins it.

    It adds one article to one story and can never bridge two: a page whose edges reach two
    stories stays alone, and so does one held by a single weak edge (a shared widget block)."""
    index = {n: i for i, n in enumerate(nodes)}
    size = Counter(label)
    reach: dict[int, set[int]] = {}
    strong: set[int] = set()
    for a, b in edges:
        i, j = index[a], index[b]
        shared = len(np.intersect1d(shingles[a], shingles[b], assume_unique=True))
        for x, y in ((i, j), (j, i)):
            if size[label[x]] == 1:
                reach.setdefault(x, set()).add(label[y] if size[label[y]] > 1 else -1 - y)
                if shared >= BODY_CONTAINMENT * len(shingles[nodes[x]]):
                    strong.add(x)
    attached = list(label)
    for i, stories in reach.items():
        if i in strong and len(stories) == 1 and (target := next(iter(stories))) >= 0:
            attached[i] = target
    return attached


def partition_component(nodes: list[str], edges: set[tuple[str, str]],
                        shingles: dict[str, np.ndarray]) -> dict[str, str]:
    """Stories of one connected component of the copy graph, each named by its earliest member.

    `nodes` in publication order. Digests are their own stories; the rest is clustered without
    their edges, then lone articles whose edges all reach one story join it."""
    digests = _digests(nodes, edges, shingles)
    edges = {e for e in edges if e[0] not in digests and e[1] not in digests}
    label = _attach_leaves(nodes, edges, _cluster(nodes, edges), shingles)
    first: dict[int, str] = {}
    for node, c in zip(nodes, label, strict=True):
        first.setdefault(c, node)
    return {node: first[c] for node, c in zip(nodes, label, strict=True)}


def _component_of(con: duckdb.DuckDBPyConnection, seeds: set[str]) -> tuple[set[str], set[tuple[str, str]]]:
    """The articles connected to `seeds` through copy edges, and those edges."""
    nodes, edges, frontier = set(seeds), set(), set(seeds)
    while frontier:
        with _Registered(con, dedup_ids=_ids(frontier)):
            found = con.execute(sql("story_edges_of_articles")).fetchall()
        edges.update(found)
        frontier = {x for e in found for x in e} - nodes
        nodes |= frontier
    return nodes, edges


def _recluster(con: duckdb.DuckDBPyConnection, touched: set[str]) -> None:
    """Re-partition the components holding `touched` articles and rewrite their stories rows."""
    with _Registered(con, dedup_ids=_ids(touched)):
        con.execute(sql("create_old_stories"))
        seeds = {r[0] for r in con.execute(sql("articles_of_old_stories")).fetchall()}
    nodes, edges = _component_of(con, seeds)
    with _Registered(con, dedup_ids=_ids(nodes)):
        con.execute(sql("add_old_stories"))
        order = {aid: (t, aid) for aid, t in con.execute(sql("article_times")).fetchall()}
    edges = {e for e in edges if e[0] in order and e[1] in order}
    linked = {x for e in edges for x in e}
    shingles = {aid: d.shingles for aid, d in _stored_docs(con, linked).items()}
    component = connected_components(order, edges, key=order.__getitem__)
    by_component: dict[str, list[str]] = {}
    for aid in sorted(order, key=order.__getitem__):
        by_component.setdefault(component[aid], []).append(aid)
    story: dict[str, str] = {}
    for members in by_component.values():
        inside = set(members)
        story.update(partition_component(members, {e for e in edges if e[0] in inside}, shingles)
                     if len(members) > 2 else {m: members[0] for m in members})
    assignment = pa.table({
        "article_id": pa.array(list(order), pa.string()),
        "story_id": pa.array([story[aid] for aid in order], pa.string()),
    })
    with _Registered(con, dedup_assign=assignment):
        con.execute(sql("rewrite_stories"))


def _assign_chunk(con: duckdb.DuckDBPyConnection, ids: list[str]) -> None:
    docs = _parse_stored(con, ids)
    if not docs:
        return
    with _Registered(con, dedup_ids=_ids(docs)):
        indexed = {r[0] for r in con.execute(sql("indexed_articles")).fetchall()}
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


def _index_is_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the stored index was built by this method (or there is none yet to rebuild)."""
    method = scalar(con, "story_index_method")
    if method == STORY_INDEX_METHOD:
        return True
    if scalar(con, "count_story_docs"):
        return False
    _record_index_method(con)
    return True


def _record_index_method(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(sql("record_story_index_method"), {"method": STORY_INDEX_METHOD})


def assign_stories(con: duckdb.DuckDBPyConnection, article_ids: list[str]) -> None:
    """Give these new or changed articles their stories; runs inside the load transaction.

    An article assigned before is re-indexed from its current text: its old postings and edges
    go, and the story it left is re-split if it no longer holds together (or deleted if empty).
    An index built by an older method is rebuilt first, so old and new keys never mix.
    """
    if not _index_is_current(con):
        rebuild_stories(con)
        return
    ids = sorted(set(article_ids))
    for start in range(0, len(ids), CHUNK):
        _assign_chunk(con, ids[start:start + CHUNK])


def assign_merged(con: duckdb.DuckDBPyConnection) -> int:
    """The load's story hook: stories for the articles its merge marked as new or changed
    (`articles_needing_story`, made by merge_articles.sql); returns how many."""
    if not scalar(con, "articles_were_merged"):
        return 0
    ids = [r[0] for r in con.execute(sql("articles_needing_story")).fetchall()]
    con.execute(sql("forget_articles_needing_story"))
    assign_stories(con, ids)
    return len(ids)


def rebuild_stories(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute every story from the stored articles (after a normalisation change, or to check).

    Articles are fed in publication order through the incremental path; since the partition does
    not depend on order or batching, the result equals what incremental ingest produced. Call it
    inside a transaction, as the rebuild-stories flow does.
    """
    for table in ("story_postings", "story_docs", "story_paragraphs", "story_edges", "stories"):
        con.execute(sql("delete_all_rows", table=table))
    _record_index_method(con)
    con.execute(sql("clear_story_assignments"))
    ids = [r[0] for r in con.execute(sql("articles_in_publication_order")).fetchall()]
    for start in range(0, len(ids), CHUNK):
        _assign_chunk(con, ids[start:start + CHUNK])
