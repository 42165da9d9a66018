"""One hostile newsroom, one ingest run: every misbehaving feed and page beside healthy feeds.

The run is shared (a Prefect flow run costs about a second); each test below asserts one case's
outcome in the database: the run survived, the bad feed or page has a clear recorded error, and
every article of the healthy feeds is loaded. Feed times are the poll's own `duration_ms`; page
cases share the run's wall time and peak memory.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

import loopback_guard
import pytest
from feedkit import Item, article_page, query, rss2, story_paragraphs, write_feeds
from hostile_kit import (
    PDF,
    PNG,
    GiB,
    Listener,
    Meter,
    MiB,
    close_mid_body,
    deep_page,
    delayed,
    encoded,
    gzip_bomb_layers,
    hard_deadline,
    max_rss_self,
    one_paragraph_page,
    run_ingest,
    streaming,
    trickle,
)
from test_hostile_lifecycle import retry_after_date

from tasks.core.kinds import ErrorKind, QueueStatus
from tasks.urls import canonicalize_url
from wirecopy.newsroom import Newsroom, Page

pytestmark = pytest.mark.usefixtures("prefect_harness")

WHEN = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
SETTINGS = dict(
    feed_max_bytes=6 * MiB,      # the 100,000-entry feed (3.4 MB) fits; the oversize ones do not
    page_max_bytes=6 * MiB,      # the 5 MiB paragraph fits; the oversize pages (8 MiB) do not
    connect_timeout=2.0, read_timeout=2.0, total_timeout=3.0,
    max_entries_per_feed=50,     # the pages feed lists 33 entries; the 100,000-entry feed is cut to 50
    feed_concurrency=40, page_concurrency=16, per_host_concurrency=16,
    extract_workers=2,
)
RUN_BOUND = 90  # seconds: the whole run, 100,000 entries and 5 MiB extraction included

ARABIC_TITLE = "مفاوضات الميناء تستمر حتى الفجر 🌙"
HEBREW_TITLE = "השביתה בנמל נמשכת 🚢"
EMOJI_TITLE = "Talks 🤝 resume at the port 🇵🇸🇮🇱 — 港口谈判 👍🏽 ⚓"
# Zero-width joiners (emoji sequences, and ZWNJ in Persian words) are a separate, known issue:
# see test_zero_width_joiners_survive_extraction.
PERSIAN_WORDS = "می\u200cخواهم کتاب\u200cها"
FAMILY = "👨\u200d👩\u200d👧"


def arabic(i: int) -> str:
    return (f"الفقرة {i}: قال مسؤولون يوم الثلاثاء إن المحادثات بشأن إضراب الميناء ستستمر الأسبوع "
            f"المقبل، بعد جولة من الاجتماعات التي امتدت حتى ساعة متأخرة من الليل في العاصمة 🌙.")


def hebrew(i: int) -> str:
    return (f"פסקה {i}: גורמים רשמיים אמרו ביום שלישי כי השיחות על השביתה בנמל יימשכו בשבוע הבא, "
            f"לאחר סבב פגישות שנמשך עד שעות הלילה המאוחרות בבירה 🚢.")


def emoji(i: int) -> str:
    return (f"Paragraph {i} 🤝: dock workers 👷🏽 and port officials said on Tuesday that talks would "
            f"continue next week ⚓, after a round of meetings that ran late into the night 🌃.")


def rtl_page(title: str, paragraphs: list[str], lang: str, direction: str = "rtl") -> bytes:
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (f'<!doctype html><html lang="{lang}" dir="{direction}"><head><meta charset="utf-8">'
            f"<title>{escape(title)}</title></head><body><main><article><h1>{escape(title)}</h1>"
            f"{body}</article></main></body></html>").encode()


@dataclass
class HostileRun:
    db: Path
    room: Newsroom
    feeds: dict[str, str]             # case -> feed URL
    pages: dict[str, str]             # case -> page URL (canonical)
    healthy: dict[str, list[str]]     # feed case -> article URLs that must load
    internal: list[Listener]
    meter: Meter
    max_rss: int
    polled_at: datetime
    extra: dict = field(default_factory=dict)

    def poll(self, case: str) -> dict:
        rows = query(self.db, "SELECT status, error, entries_seen, entries_new, bytes, duration_ms "
                              "FROM feed_polls WHERE feed_url = ?", [self.feeds[case]])
        assert len(rows) == 1, f"{case}: one poll recorded, got {rows}"
        return dict(zip(("status", "error", "entries_seen", "entries_new", "bytes", "duration_ms"), rows[0],
                        strict=True))

    def feed(self, case: str) -> dict:
        rows = query(self.db, "SELECT url, last_status, last_error, consecutive_failures, next_poll_at, "
                              "last_polled_at, gone FROM feeds WHERE configured_url = ?", [self.feeds[case]])
        assert len(rows) == 1
        return dict(zip(("url", "last_status", "last_error", "failures", "next_poll_at", "last_polled_at",
                         "gone"), rows[0], strict=True))

    def page_errors(self, case: str) -> list[tuple[str, str]]:
        return query(self.db, "SELECT kind, error FROM page_errors WHERE url = ?", [self.pages[case]])

    def queue_status(self, case: str) -> str | None:
        rows = query(self.db, "SELECT status FROM fetch_queue WHERE url = ?", [self.pages[case]])
        return rows[0][0] if rows else None

    def articles(self) -> dict[str, tuple]:
        return {r[0]: r[1:] for r in query(self.db, "SELECT url, title, text, published_at FROM articles")}

    def outcome(self, case: str) -> str:
        poll = self.poll(case)
        error = poll["error"] or ""
        return error if error.startswith(poll["status"]) else f"{poll['status']}: {error}".rstrip(": ")

    def poll_seconds(self, case: str) -> float:
        return self.poll(case)["duration_ms"] / 1000


@pytest.fixture(scope="module")
def hostile(prefect_harness, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    stop = threading.Event()
    outer_bomb, inner_bomb = gzip_bomb_layers()
    with Newsroom() as room, Listener("127.0.0.1", hold=True) as blackhole, \
            Listener("127.0.0.2") as v4_internal, Listener("::1") as v6_internal:
        feeds: dict[str, str] = {}
        pages: dict[str, str] = {}
        healthy: dict[str, list[str]] = {}

        def article(slug: str, topic: str, **kwargs) -> str:
            return room.add(f"/news/{slug}", Page(article_page(topic.title(), story_paragraphs(topic), **kwargs)))

        def rss_feed(case: str, items: list[Item], path: str | None = None, **page_kw) -> str:
            feeds[case] = room.add(path or f"/feeds/{case}.xml", Page(rss2(items), "application/rss+xml", **page_kw))
            return feeds[case]

        # Healthy feeds: every one of their articles must be loaded.
        healthy["healthy"] = [article(f"healthy-{i}", f"grain corridor {i}") for i in range(5)]
        rss_feed("healthy", [Item(f"Grain {i}", u, guid=f"grain-{i}", published=WHEN)
                             for i, u in enumerate(healthy["healthy"])])
        rtl = {
            "ar": room.add("/news/ar", Page(rtl_page(ARABIC_TITLE, [arabic(i) for i in range(6)], "ar"))),
            "he": room.add("/news/he", Page(rtl_page(HEBREW_TITLE, [hebrew(i) for i in range(6)], "he"))),
            "emoji": room.add("/news/emoji", Page(rtl_page(EMOJI_TITLE, [emoji(i) for i in range(6)], "en", "ltr"))),
        }
        healthy["rtl_emoji"] = list(rtl.values())
        rss_feed("rtl_emoji", [Item(ARABIC_TITLE, rtl["ar"]), Item(HEBREW_TITLE, rtl["he"]),
                               Item(EMOJI_TITLE, rtl["emoji"])])
        zw_title = f"{PERSIAN_WORDS} {FAMILY}"
        healthy["zero_width"] = [room.add("/news/fa", Page(rtl_page(
            zw_title, [f"{i} {PERSIAN_WORDS} {FAMILY} " * 8 for i in range(6)], "fa")))]
        rss_feed("zero_width", [Item(zw_title, healthy["zero_width"][0])])
        healthy["slow_but_valid"] = [article(f"slow-{i}", f"ferry timetable {i}") for i in range(2)]
        feeds["slow_but_valid"] = room.add("/feeds/slow.xml", delayed(
            rss2([Item(f"Ferry {i}", u) for i, u in enumerate(healthy["slow_but_valid"])]), 1.5))

        # Feeds that misbehave in transport.
        feeds["oversize_with_length"] = room.add("/feeds/big-cl.xml", streaming(20 * MiB, content_length=True))
        feeds["oversize_without_length"] = room.add("/feeds/big-stream.xml", streaming(20 * MiB, content_length=False))
        feeds["gzip_bomb"] = room.add("/feeds/bomb.xml", encoded(inner_bomb, "gzip"))
        feeds["gzip_bomb_nested"] = room.add("/feeds/bomb2.xml", encoded(outer_bomb, "gzip, gzip"))
        feeds["one_byte_a_second"] = room.add("/feeds/trickle.xml", trickle(stop))
        feeds["never_answers"] = blackhole.url("/feed.xml")
        feeds["closes_mid_body"] = room.add("/feeds/cut.xml", close_mid_body(
            rss2([Item(f"Cut {i}", room.url(f"/news/cut-{i}")) for i in range(50)])))
        feeds["redirects_to_internal_host"] = room.add("/feeds/to-internal.xml", Page(
            b"", status=302, headers={"Location": v4_internal.url("/feed.xml")}))

        # Feeds that misbehave in content.
        broken_ok = article("broken-ok", "salt flats survey")
        healthy["broken_xml"] = [broken_ok]
        feeds["broken_xml"] = room.add("/feeds/broken.xml", Page(
            rss2([Item("Survey", broken_ok)]).replace(b"</channel></rss>", b"<item><title>bad & worse</ti"),
            "application/rss+xml"))
        feeds["invalid_xml"] = room.add("/feeds/invalid.xml", Page(
            b"\x00\x01<<rss>> not {xml} at all &&& \xff\xfe", "application/rss+xml"))
        feeds["html_not_feed"] = room.add("/feeds/html.xml", Page(
            article_page("Our feeds", ["Subscribe to our feeds from the menu."]), "text/html; charset=utf-8"))
        feeds["empty_200"] = room.add("/feeds/empty.xml", Page(b"", "application/rss+xml"))
        cafe = [article("cafe-0", "cafe terrace rules"), article("cafe-1", "alpine pass closure")]
        healthy["wrong_charset"] = cafe
        feeds["wrong_charset"] = room.add("/feeds/charset.xml", Page(
            rss2([Item("Café crème à Genève", cafe[0])]).decode().encode("latin-1"),
            "application/rss+xml; charset=utf-8"))
        feeds["wrong_charset_declared"] = room.add("/feeds/charset2.xml", Page(
            rss2([Item("Zürich–Genève: grève générale", cafe[1])]).replace(
                b'encoding="utf-8"', b'encoding="iso-8859-1"'), "application/rss+xml; charset=iso-8859-1"))
        big_items = "".join(f"<item><link>/big/{i}</link></item>" for i in range(100_000))
        feeds["entries_100000"] = room.add("/feeds/100k.xml", Page(
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Big</title>'
            f"{big_items}</channel></rss>".encode(), "application/rss+xml"))
        nolink_ok = article("nolink-ok", "orchard frost")
        healthy["entries_without_link"] = [nolink_ok]
        feeds["entries_without_link"] = room.add("/feeds/nolink.xml", Page(
            rss2([Item("No link, has guid", "", guid="nolink-guid"), Item("No link, no guid", ""),
                  Item("Orchard", nolink_ok)]).replace(b"<link></link>", b""), "application/rss+xml"))
        dupes = [article(f"dupe-{i}", f"tram line {i}") for i in range(3)]
        healthy["duplicate_guids"] = dupes
        rss_feed("duplicate_guids", [Item(f"Tram {i}", u, guid="same-guid") for i, u in enumerate(dupes)]
                 + [Item("Tram 0 again", dupes[0], guid="same-guid")])
        dated = [article("future", "comet return"), article("undated", "tide tables")]
        healthy["bad_dates"] = dated
        feeds["bad_dates"] = room.add("/feeds/dates.xml", Page(
            rss2([Item("Comet", dated[0], guid="future", published=datetime(2099, 1, 1, tzinfo=UTC)),
                  Item("Tides", dated[1], guid="undated", published=WHEN)]).replace(
                format_datetime(WHEN).encode(), b"the day after tomorrow, maybe"), "application/rss+xml"))

        # Feeds that misbehave in HTTP.
        feeds["http_404"] = room.add("/feeds/404.xml", Page(b"no such feed", "text/plain", 404))
        feeds["http_500"] = room.add("/feeds/500.xml", Page(b"boom", "text/plain", 500))
        feeds["http_429_retry_after"] = room.add("/feeds/429.xml", Page(
            b"slow down", "text/plain", 429, headers={"Retry-After": "120"}))
        feeds["http_503_retry_after"] = room.add("/feeds/503.xml", retry_after_date(300))
        feeds["redirect_loop"] = room.add("/feeds/loop-a.xml",
                                          Page(b"", status=302, headers={"Location": "/feeds/loop-b.xml"}))
        room.add("/feeds/loop-b.xml", Page(b"", status=302, headers={"Location": "/feeds/loop-a.xml"}))
        moved = [article(f"moved-{i}", f"bridge repair {i}") for i in range(2)]
        healthy["moved_301"] = moved
        room.add("/feeds/moved-new.xml", Page(rss2([Item(f"Bridge {i}", u) for i, u in enumerate(moved)]),
                                              "application/rss+xml"))
        feeds["moved_301"] = room.add("/feeds/moved.xml",
                                      Page(b"", status=301, headers={"Location": "/feeds/moved-new.xml"}))

        # Pages that misbehave, listed by one feed.
        big_page = article_page("Big", story_paragraphs("giant", 10))
        one_para = one_paragraph_page(5 * MiB)
        page_routes = {
            "page_oversize_with_length": streaming(8 * MiB, content_length=True, content_type="text/html"),
            "page_oversize_without_length": streaming(8 * MiB, content_length=False, content_type="text/html"),
            "page_gzip_bomb": encoded(inner_bomb, "gzip", "text/html"),
            "page_gzip_bomb_nested": encoded(outer_bomb, "gzip, gzip", "text/html"),
            "page_one_byte_a_second": trickle(stop, content_type="text/html"),
            "page_closes_mid_body": close_mid_body(big_page, content_type="text/html"),
            "page_pdf": Page(PDF, "application/pdf"),
            "page_image": Page(PNG, "image/png"),
            "page_pdf_labelled_html": Page(PDF, "text/html"),
            "page_nested_10000_deep": Page(deep_page(10_000)),
            "page_one_paragraph_5mib": Page(one_para),
            "page_http_404": Page(b"gone fishing", "text/plain", 404),
            "page_http_500": Page(b"boom", "text/plain", 500),
            "page_redirect_loop": Page(b"", status=302, headers={"Location": "/p/page_redirect_loop_b"}),
            "page_redirect_to_file": Page(b"", status=302, headers={"Location": "file:///etc/passwd"}),
            "page_redirect_to_127.0.0.2": Page(b"", status=302, headers={"Location": v4_internal.url("/admin")}),
            "page_redirect_to_2130706434": Page(b"", status=302, headers={
                "Location": f"http://2130706434:{v4_internal.port}/admin"}),
            "page_redirect_to_0x7f000002": Page(b"", status=302, headers={
                "Location": f"http://0x7f000002:{v4_internal.port}/admin"}),
            "page_redirect_to_[::1]": Page(b"", status=302, headers={"Location": v6_internal.url("/admin")}),
        }
        room.add("/p/page_redirect_loop_b", Page(b"", status=302, headers={"Location": "/p/page_redirect_loop"}))
        for case, route in page_routes.items():
            pages[case] = room.add("/p/" + re.sub(r"[^a-z0-9_]", "-", case), route)
        pages["page_never_answers"] = blackhole.url("/page")
        pages["link_to_127.0.0.2"] = v4_internal.url("/secret")
        pages["link_to_2130706434"] = f"http://2130706434:{v4_internal.port}/secret"
        pages["link_to_0x7f000002"] = f"http://0x7f000002:{v4_internal.port}/secret"
        pages["link_to_[::1]"] = v6_internal.url("/secret")
        healthy["pages"] = [pages["page_one_paragraph_5mib"]]
        schemes = {"link_file": "file:///etc/passwd", "link_ftp": f"ftp://127.0.0.1:{room._server.server_address[1]}/x",
                   "link_javascript": "javascript:alert(document.cookie)", "link_data": "data:text/html,<h1>hi</h1>"}
        items = [Item(case, url, guid=case) for case, url in pages.items()]
        items += [Item(case, url, guid=case) for case, url in schemes.items()]
        feeds["pages"] = room.add("/feeds/pages.xml", Page(rss2(items), "application/rss+xml"))
        pages = {case: canonicalize_url(url) for case, url in pages.items()}
        pages.update({case: case for case in schemes})  # recorded under the entry's guid

        feeds_toml = write_feeds(tmp / "feeds.toml", [(case.replace("_", " ").title(), url)
                                                      for case, url in feeds.items()], **SETTINGS)
        db = tmp / "w.duckdb"
        violations = len(loopback_guard.violations)
        polled_at = datetime.now(UTC)
        with hard_deadline(RUN_BOUND + 30), Meter() as meter:
            summary = run_ingest(feeds_toml, db)
        stop.set()
        assert not loopback_guard.violations[violations:], "connections off loopback"
        yield HostileRun(db=db, room=room, feeds=feeds, pages=pages, healthy=healthy,
                         internal=[v4_internal, v6_internal], meter=meter, max_rss=max_rss_self(),
                         polled_at=polled_at, extra=dict(summary=summary, blackhole=blackhole))


# --- the run as a whole ------------------------------------------------------------------------


def test_the_run_survives_within_its_bound_and_loads_every_healthy_article(hostile, hostile_case):
    articles = hostile.articles()
    expected = [u for urls in hostile.healthy.values() for u in urls]
    missing = [u for u in expected if u not in articles]
    hostile_case("whole run: 30 bad feeds and pages beside healthy ones",
                 f"completed; {len(expected) - len(missing)}/{len(expected)} healthy articles loaded",
                 hostile.meter.seconds, hostile.meter.growth_mib, lost=len(missing))
    assert not missing
    assert hostile.meter.seconds < RUN_BOUND
    done = dict(query(hostile.db, "SELECT url, status FROM fetch_queue"))
    assert all(done[u] == "done" for u in expected)
    assert query(hostile.db, "SELECT count(*) = count(DISTINCT url) FROM articles") == [(True,)]
    for url in hostile.healthy["healthy"]:
        title, text, published = articles[url]
        assert title.startswith("Grain Corridor") and "Paragraph 6 on grain corridor" in text
        assert published == WHEN
    assert hostile.feed("healthy")["last_status"] == "200"


def test_slow_but_valid_feed_is_not_starved_by_a_huge_one(hostile, hostile_case):
    poll = hostile.poll("slow_but_valid")
    hostile_case("slow but valid feed (answers after 1.5 s) polled beside the 100,000-entry feed",
                 f"status {poll['status']}, {poll['entries_new']} new entries", hostile.poll_seconds("slow_but_valid"),
                 hostile.meter.growth_mib)
    assert (poll["status"], poll["entries_new"]) == ("200", 2)


# --- feeds: transport --------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["oversize_with_length", "oversize_without_length"])
def test_oversize_feed_is_cut_at_the_limit(hostile, hostile_case, case):
    poll = hostile.poll(case)
    hostile_case(f"feed {case.replace('_', ' ')} (20 MiB, limit 6 MiB)", hostile.outcome(case),
                 hostile.poll_seconds(case), hostile.meter.growth_mib)
    assert poll["status"] == "too_large" and "6291456" in poll["error"]
    assert hostile.feed(case)["failures"] == 1


def test_gzip_bomb_feed_is_stopped_at_the_limit_and_never_inflated(hostile, hostile_case):
    poll = hostile.poll("gzip_bomb")
    hostile_case("feed gzip bomb (1 MiB inflating to 1 GiB)",
                 f"{poll['status']}: {poll['error']}; test process peak RSS {hostile.max_rss / MiB:.0f} MiB",
                 hostile.poll_seconds("gzip_bomb"), hostile.meter.growth_mib)
    assert poll["status"] == "too_large" and "once decoded" in poll["error"]
    # Memory: inflating the bomb would take this process past 1 GiB; it stayed well below.
    # (The decoder's own bound is asserted exactly in test_hostile_bounds.py.)
    assert hostile.max_rss < GiB
    assert hostile.meter.peak - hostile.meter.baseline < 700 * MiB


def test_nested_gzip_bomb_is_refused_without_inflating(hostile, hostile_case):
    poll = hostile.poll("gzip_bomb_nested")
    hostile_case("feed gzip bomb nested (1.8 KiB, gzip twice: 1 GiB)", hostile.outcome("gzip_bomb_nested"),
                 hostile.poll_seconds("gzip_bomb_nested"), hostile.meter.growth_mib)
    assert poll["status"] == "bad_encoding" and "gzip, gzip" in poll["error"]


def test_feed_sending_one_byte_a_second_hits_the_total_bound(hostile, hostile_case):
    poll = hostile.poll("one_byte_a_second")
    seconds = hostile.poll_seconds("one_byte_a_second")
    hostile_case("feed sending one byte a second", hostile.outcome("one_byte_a_second"), seconds,
                 hostile.meter.growth_mib)
    assert poll["status"] == "timeout" and "within 3s" in poll["error"]
    assert 2.5 <= seconds < 5.0, "cut at total_timeout (3 s), although bytes keep arriving"


def test_feed_that_accepts_and_never_answers_times_out(hostile, hostile_case):
    poll = hostile.poll("never_answers")
    seconds = hostile.poll_seconds("never_answers")
    hostile_case("feed server that accepts and never answers", hostile.outcome("never_answers"), seconds,
                 hostile.meter.growth_mib)
    assert poll["status"] == "timeout" and poll["error"] == "ReadTimeout: no data for 2s"
    assert seconds < 4.0
    assert hostile.extra["blackhole"].accepted, "the connection was made and left unanswered"


def test_feed_closing_mid_body_is_a_protocol_error(hostile, hostile_case):
    poll = hostile.poll("closes_mid_body")
    hostile_case("feed connection closed mid-body", hostile.outcome("closes_mid_body"),
                 hostile.poll_seconds("closes_mid_body"), hostile.meter.growth_mib)
    assert poll["status"] == "protocol" and "connection broke" in poll["error"]
    assert query(hostile.db, "SELECT count(*) FROM feed_entries WHERE url LIKE '%/news/cut-%'") == [(0,)]


def test_feed_redirecting_to_another_internal_host_is_refused(hostile, hostile_case):
    poll = hostile.poll("redirects_to_internal_host")
    hostile_case("feed redirecting to 127.0.0.2", hostile.outcome("redirects_to_internal_host"),
                 hostile.poll_seconds("redirects_to_internal_host"), hostile.meter.growth_mib)
    assert poll["status"] == "refused" and "127.0.0.2" in poll["error"]
    assert all(not listener.accepted for listener in hostile.internal)


# --- feeds: content ----------------------------------------------------------------------------


def test_broken_xml_yields_what_parsed_and_records_the_problem(hostile, hostile_case):
    poll = hostile.poll("broken_xml")
    hostile_case("feed XML broken mid-document",
                 f"{poll['status']}, {poll['entries_seen']} entries kept; {poll['error']}",
                 hostile.poll_seconds("broken_xml"), hostile.meter.growth_mib)
    assert poll["status"] == "200" and "not well-formed" in poll["error"]
    assert poll["entries_seen"] == 2, "the good item, and the broken one as far as it parsed (no link)"
    assert hostile.healthy["broken_xml"][0] in hostile.articles()


@pytest.mark.parametrize("case,kind", [("invalid_xml", "not_a_feed"), ("html_not_feed", "not_a_feed"),
                                       ("empty_200", "empty")])
def test_bodies_that_are_not_feeds_are_failed_polls(hostile, hostile_case, case, kind):
    poll = hostile.poll(case)
    hostile_case(f"feed {case.replace('_', ' ')}", hostile.outcome(case), hostile.poll_seconds(case),
                 hostile.meter.growth_mib)
    assert poll["status"] == kind and poll["error"].startswith(kind)
    feed = hostile.feed(case)
    assert feed["failures"] == 1 and feed["next_poll_at"] > feed["last_polled_at"], "it backs off"


def test_feed_with_a_wrong_charset_is_read_in_the_right_one(hostile, hostile_case):
    titles = dict(query(hostile.db, "SELECT feed_url, title FROM feed_entries WHERE feed_url IN (?, ?)",
                        [hostile.feeds["wrong_charset"], hostile.feeds["wrong_charset_declared"]]))
    poll = hostile.poll("wrong_charset")
    hostile_case("feed declaring utf-8, sending latin-1", f"titles intact; {poll['error']}",
                 hostile.poll_seconds("wrong_charset"), hostile.meter.growth_mib)
    hostile_case("feed declaring iso-8859-1, sending utf-8", "titles intact",
                 hostile.poll_seconds("wrong_charset_declared"), hostile.meter.growth_mib)
    assert titles == {hostile.feeds["wrong_charset"]: "Café crème à Genève",
                      hostile.feeds["wrong_charset_declared"]: "Zürich–Genève: grève générale"}
    assert poll["status"] == "200" and "CharacterEncodingOverride" in poll["error"]


def test_feed_with_100000_entries_is_capped_and_the_cap_recorded(hostile, hostile_case):
    poll = hostile.poll("entries_100000")
    hostile_case("feed with 100,000 entries (cap 50)", hostile.outcome("entries_100000"),
                 hostile.poll_seconds("entries_100000"), hostile.meter.growth_mib)
    assert poll["status"] == "200"
    assert poll["error"] == "truncated: 100000 entries, kept the first 50"
    assert (poll["entries_seen"], poll["entries_new"]) == (50, 50)
    urls = [r[0] for r in query(hostile.db, "SELECT url FROM feed_entries WHERE feed_url = ? ORDER BY url",
                                [hostile.feeds["entries_100000"]])]
    assert sorted(urls) == sorted(hostile.room.url(f"/big/{i}") for i in range(50)), "the first 50, in feed order"


def test_entries_without_link_are_recorded_not_fetched(hostile, hostile_case):
    rows = query(hostile.db, "SELECT url, kind, error FROM page_errors WHERE feed_url = ? ORDER BY url",
                 [hostile.feeds["entries_without_link"]])
    hostile_case("feed entries with no link", f"{len(rows)} x {rows[0][1] if rows else '?'}: "
                 f"{rows[0][2] if rows else ''}; the linked entry loaded",
                 hostile.poll_seconds("entries_without_link"), hostile.meter.growth_mib)
    assert rows == [("nolink-guid", "bad_link", "entry has no link"),
                    ("title:No link, no guid", "bad_link", "entry has no link")]
    assert hostile.healthy["entries_without_link"][0] in hostile.articles()


def test_duplicate_guids_lose_no_article(hostile, hostile_case):
    poll = hostile.poll("duplicate_guids")
    entries = query(hostile.db, "SELECT entry_id, url FROM feed_entries WHERE feed_url = ? ORDER BY url",
                    [hostile.feeds["duplicate_guids"]])
    loaded = [u for u in hostile.healthy["duplicate_guids"] if u in hostile.articles()]
    hostile_case("feed reusing one guid for 3 links (and repeating an entry)",
                 f"{len(loaded)}/3 articles loaded once; {poll['error']}",
                 hostile.poll_seconds("duplicate_guids"), hostile.meter.growth_mib,
                 lost=3 - len(loaded))
    assert len(loaded) == 3
    assert [u for _, u in entries] == sorted(hostile.healthy["duplicate_guids"])
    assert "same-guid" in [e for e, _ in entries]
    assert "duplicate guid" in (poll["error"] or "")


def test_future_and_unparseable_dates_are_dropped_not_trusted(hostile, hostile_case):
    dates = dict(query(hostile.db, "SELECT entry_id, published_at FROM feed_entries WHERE feed_url = ?",
                       [hostile.feeds["bad_dates"]]))
    articles = hostile.articles()
    hostile_case("feed dates in 2099 and unparseable", "published_at left empty; articles loaded",
                 hostile.poll_seconds("bad_dates"), hostile.meter.growth_mib)
    assert dates == {"future": None, "undated": None}
    for url in hostile.healthy["bad_dates"]:
        published = articles[url][2]
        assert published is None or published <= datetime.now(UTC)


def test_rtl_scripts_and_emoji_round_trip(hostile, hostile_case):
    articles = hostile.articles()
    titles = dict(query(hostile.db, "SELECT url, title FROM feed_entries WHERE feed_url = ?",
                        [hostile.feeds["rtl_emoji"]]))
    urls = hostile.healthy["rtl_emoji"]
    hostile_case("Arabic, Hebrew and emoji titles and bodies", "stored exactly",
                 hostile.poll_seconds("rtl_emoji"), hostile.meter.growth_mib)
    assert titles == dict(zip(urls, [ARABIC_TITLE, HEBREW_TITLE, EMOJI_TITLE], strict=True))
    for url, title, para in zip(urls, [ARABIC_TITLE, HEBREW_TITLE, EMOJI_TITLE], [arabic, hebrew, emoji],
                                strict=True):
        got_title, text, _ = articles[url]
        assert got_title == title
        assert all(para(i) in text for i in range(6)), text[:300]


# --- feeds: HTTP -------------------------------------------------------------------------------


@pytest.mark.parametrize("case,status", [("http_404", "404"), ("http_500", "500")])
def test_http_errors_are_recorded_and_back_off(hostile, hostile_case, case, status):
    poll, feed = hostile.poll(case), hostile.feed(case)
    hostile_case(f"feed HTTP {status}", f"{poll['status']}: {poll['error']}; next poll in "
                 f"{(feed['next_poll_at'] - feed['last_polled_at']).total_seconds():.0f} s",
                 hostile.poll_seconds(case), hostile.meter.growth_mib)
    assert (poll["status"], poll["error"]) == (status, f"HTTP {status}")
    assert feed["next_poll_at"] >= feed["last_polled_at"] + timedelta(seconds=60)
    assert not feed["gone"]


@pytest.mark.parametrize("case,seconds", [("http_429_retry_after", 120), ("http_503_retry_after", 300)])
def test_retry_after_is_honoured(hostile, hostile_case, case, seconds):
    poll, feed = hostile.poll(case), hostile.feed(case)
    wait = (feed["next_poll_at"] - feed["last_polled_at"]).total_seconds()
    hostile_case(f"feed HTTP {poll['status']} with Retry-After {seconds} s", f"next poll in {wait:.0f} s",
                 hostile.poll_seconds(case), hostile.meter.growth_mib)
    assert poll["status"] == case.split("_")[1]
    assert abs(wait - seconds) < 5


def test_feed_redirect_loop_is_refused(hostile, hostile_case):
    poll = hostile.poll("redirect_loop")
    hostile_case("feed redirect loop", hostile.outcome("redirect_loop"), hostile.poll_seconds("redirect_loop"),
                 hostile.meter.growth_mib)
    assert poll["status"] == "redirect_loop"
    assert hostile.room.paths_requested().count("/feeds/loop-a.xml") == 1


def test_301_moves_the_feed(hostile, hostile_case):
    feed = hostile.feed("moved_301")
    hostile_case("feed moved by 301", f"stored under {feed['url'].rsplit('/', 1)[1]}; articles loaded",
                 hostile.poll_seconds("moved_301"), hostile.meter.growth_mib)
    assert feed["url"] == hostile.room.url("/feeds/moved-new.xml")
    assert all(u in hostile.articles() for u in hostile.healthy["moved_301"])


# --- pages ---------------------------------------------------------------------------------------

PAGE_CASES = {
    "page_oversize_with_length": ("too_large", "exceeds the limit"),
    "page_oversize_without_length": ("too_large", "larger than"),
    "page_gzip_bomb": ("too_large", "once decoded"),
    "page_gzip_bomb_nested": ("bad_encoding", "gzip, gzip"),
    "page_one_byte_a_second": ("timeout", "within 3s"),
    "page_never_answers": ("timeout", "ReadTimeout: no data for 2s"),
    "page_closes_mid_body": ("protocol", "connection broke"),
    "page_pdf": ("not_html", "application/pdf"),
    "page_image": ("not_html", "image/png"),
    "page_pdf_labelled_html": ("extract", ""),
    "page_nested_10000_deep": ("extract", "no article text"),
    "page_http_404": ("http_404", "HTTP 404"),
    "page_http_500": ("http_500", "HTTP 500"),
    "page_redirect_loop": ("redirect_loop", "redirect loop"),
    "page_redirect_to_file": ("bad_scheme", "file"),
    "link_file": ("bad_link", "scheme 'file'"),
    "link_ftp": ("bad_link", "scheme 'ftp'"),
    "link_javascript": ("bad_link", "scheme 'javascript'"),
    "link_data": ("bad_link", "scheme 'data'"),
}
TRANSIENT = {"page_one_byte_a_second", "page_never_answers", "page_closes_mid_body", "page_http_500"}


@pytest.mark.parametrize("case", list(PAGE_CASES))
def test_bad_page_is_recorded_and_the_run_goes_on(hostile, hostile_case, case):
    kind, text = PAGE_CASES[case]
    errors = hostile.page_errors(case)
    hostile_case(case.replace("_", " "), f"{errors[0][0]}: {errors[0][1][:70]}" if errors else "no error recorded",
                 hostile.meter.seconds, hostile.meter.growth_mib)
    assert len(errors) == 1 and errors[0][0] == kind and text in errors[0][1], errors
    assert hostile.pages[case] not in hostile.articles()
    if case.startswith("link_"):
        assert hostile.queue_status(case) is None, "never queued"
    else:
        assert hostile.queue_status(case) == ("failed" if case in TRANSIENT else "refused")


INTERNAL = ["link_to_127.0.0.2", "link_to_2130706434", "link_to_0x7f000002", "link_to_[::1]",
            "page_redirect_to_127.0.0.2", "page_redirect_to_2130706434", "page_redirect_to_0x7f000002",
            "page_redirect_to_[::1]"]


@pytest.mark.parametrize("case", INTERNAL)
def test_links_and_redirects_to_other_loopback_hosts_are_refused(hostile, hostile_case, case):
    errors = hostile.page_errors(case)
    hostile_case(case.replace("_", " "), f"{errors[0][0]}: {errors[0][1][:70]}" if errors else "no error recorded",
                 hostile.meter.seconds, hostile.meter.growth_mib)
    assert [k for k, _ in errors] == ["refused"] and "not a public address" in errors[0][1]
    assert hostile.queue_status(case) == "refused"
    assert [listener.accepted for listener in hostile.internal] == [[], []], "nothing reached 127.0.0.2 or [::1]"


def test_every_kind_and_status_stored_is_one_the_code_names(hostile):
    """Whatever the hostile run met, what it stored is in tasks/core/kinds.py: `wirecopy status`, the
    retry query and analysts' filters all name the same things."""
    kinds = {k for (k,) in query(hostile.db, "SELECT DISTINCT kind FROM page_errors")}
    polls = {s for (s,) in query(hostile.db, "SELECT status FROM feed_polls UNION "
                                             "SELECT last_status FROM feeds WHERE last_status IS NOT NULL")}
    queue = {s for (s,) in query(hostile.db, "SELECT DISTINCT status FROM fetch_queue")}
    error_kinds = {k.value for k in ErrorKind}
    assert {k for k in kinds if k not in error_kinds and not re.fullmatch(r"http_\d{3}", k)} == set()
    assert {s for s in polls if not s.isdigit() and s not in error_kinds} == set()
    assert queue <= {s.value for s in QueueStatus}
    assert {"bad_link", "too_large", "timeout", "http_404"} <= kinds and {"empty", "not_a_feed"} <= polls
    assert {"done", "failed", "refused"} <= queue


def test_5_mib_paragraph_is_extracted_within_bounds(hostile, hostile_case):
    url = hostile.pages["page_one_paragraph_5mib"]
    articles = hostile.articles()
    size = len(articles[url][1]) if url in articles else 0
    hostile_case("page of one 5 MiB paragraph", f"extracted: {size / MiB:.1f} MiB of text",
                 hostile.meter.seconds, hostile.meter.growth_mib, lost=0 if size else 1)
    assert size > 4.5 * MiB
    assert hostile.queue_status("page_one_paragraph_5mib") == "done"


def test_zero_width_joiners_survive_extraction(hostile):
    url = hostile.healthy["zero_width"][0]
    feed_title = query(hostile.db, "SELECT title FROM feed_entries WHERE url = ?", [url])[0][0]
    assert feed_title == f"{PERSIAN_WORDS} {FAMILY}", "the feed path keeps them"
    title, text, _ = hostile.articles()[url]
    assert title == f"{PERSIAN_WORDS} {FAMILY}"
    assert PERSIAN_WORDS in text and FAMILY in text
