"""The vocabularies stored in the database and passed between steps, one enum each."""
from __future__ import annotations

from enum import StrEnum


class SourceKind(StrEnum):
    """What a feed URL answers with; each kind is read by one module of tasks/sources/."""

    RSS = "rss"  # RSS 0.9x/1.0 (RDF)/2.0 and Atom, read by feedparser
    JSON = "json"  # JSON Feed 1.0 and 1.1
    SITEMAP = "sitemap"  # sitemaps, Google News sitemaps and sitemap indexes


class QueueStatus(StrEnum):
    """Where a page stands in `fetch_queue`."""

    PENDING = "pending"  # not attempted yet, or deferred by its host (no attempt counted)
    FAILED = "failed"  # attempted; retried after backoff
    REFUSED = "refused"  # given up for good: a permanent error, or too many attempts
    DISALLOWED = "disallowed"  # robots.txt disallows it; asked again once that robots.txt changes
    DONE = "done"  # fetched and extracted


class ErrorKind(StrEnum):
    """Why a fetch, a poll or an extraction failed: `page_errors.kind`, `feed_polls.status`.

    An HTTP error status is a kind of its own, `http_<status>` (see `http_error_kind`).
    """

    # the host gave no answer
    NETWORK = "network"
    PROTOCOL = "protocol"
    TIMEOUT = "timeout"
    # the request or its answer is unusable
    REFUSED = "refused"  # the address is not public (settings.allow_private_networks)
    BAD_SCHEME = "bad_scheme"
    BAD_URL = "bad_url"
    TOO_LARGE = "too_large"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    REDIRECT_LOOP = "redirect_loop"
    BAD_ENCODING = "bad_encoding"
    NOT_HTML = "not_html"
    NOT_A_FEED = "not_a_feed"
    EMPTY = "empty"  # a feed URL answered 200 with no body
    MALFORMED = "malformed"  # a feed read with a complaint (feedparser's bozo) that left no entry
    BLOCKED = "blocked"  # an anti-bot challenge answered
    ROBOTS = "robots"  # robots.txt disallows the page
    ROBOTS_UNREACHABLE = "robots_unreachable"
    # extraction
    EXTRACT = "extract"  # the page holds no article text
    EXTRACT_TIMEOUT = "extract_timeout"
    EXTRACT_CRASH = "extract_crash"
    CLEANING_EMPTIED = "cleaning_emptied"  # not a failure: the page was kept, with what extraction found
    BAD_LINK = "bad_link"  # a feed entry's link is unusable

    @property
    def no_answer(self) -> bool:
        """The host did not answer: worth one quick retry, and robots.txt is not known."""
        return self in _NO_ANSWER

    @property
    def permanent(self) -> bool:
        """Asking again gives the same answer: the page is refused, not retried."""
        return self in _PERMANENT


_NO_ANSWER = frozenset({ErrorKind.NETWORK, ErrorKind.PROTOCOL, ErrorKind.TIMEOUT})
_PERMANENT = frozenset({ErrorKind.REFUSED, ErrorKind.BAD_SCHEME, ErrorKind.BAD_URL, ErrorKind.TOO_LARGE,
                        ErrorKind.TOO_MANY_REDIRECTS, ErrorKind.REDIRECT_LOOP, ErrorKind.BAD_ENCODING,
                        ErrorKind.NOT_HTML, ErrorKind.EXTRACT, ErrorKind.EXTRACT_TIMEOUT})
PERMANENT_HTTP_STATUSES = frozenset({400, 401, 403, 404, 405, 410, 451})


def http_error_kind(status: int) -> str:
    """The error kind of an HTTP status that is not an article: `http_404`."""
    return f"http_{status}"


def is_permanent(kind: str) -> bool:
    """Whether a failure of this kind (an ErrorKind or `http_<status>`) is permanent, not retried."""
    if kind.startswith("http_") and kind[5:].isdigit():
        return int(kind[5:]) in PERMANENT_HTTP_STATUSES
    return kind in _PERMANENT
