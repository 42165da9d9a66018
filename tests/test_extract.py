"""extract_article on hand-written pages: body paragraphs, metadata, wire service, errors."""
from __future__ import annotations

import json
import pickle
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml.html import fromstring

from tasks.core.errors import ExtractionError
from tasks.extract import _read_json_ld, extract_article

PAGES = Path(__file__).parent / "fixtures" / "pages"
ST_URL = "https://www.straitstimes.com/asia/east-asia/south-korea-us-to-start-talks-on-sharing-cost-of-american-troops"
FILLER = (
    "The committee met for most of the afternoon and heard from residents, officials and a "
    "consultant who had studied the plan for several months before it came to a vote."
)


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def paragraphs(text: str) -> list[str]:
    return text.split("\n\n")


def html_page(body: str, head: str = "", lang: str = ' lang="en"') -> str:
    """A small but complete page whose article is `body` (a few paragraphs are needed for trafilatura)."""
    return (
        f"<!DOCTYPE html><html{lang}><head><meta charset='utf-8'>{head}</head><body>"
        f"<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        f"<article>{body}</article><footer><a href='/terms'>Terms</a></footer></body></html>"
    )


def plain_page(head: str = "", lang: str = ' lang="en"') -> str:
    return html_page(
        "<h1>Council approves new bus routes</h1>"
        "<p>The city council approved three new bus routes on Monday after a long debate.</p>"
        + f"<p>{FILLER}</p>" * 3,
        head,
        lang,
    )


def test_straits_times_copy_of_reuters_story():
    article = extract_article(page("straits_times_reuters.html"), ST_URL)

    assert paragraphs(article.text) == [
        "SEOUL, Nov 27 (Reuters) - South Korea and the United States will open formal talks next month "
        "on how to share the cost of American troops stationed on the peninsula, Seoul's defence ministry "
        "said on Thursday.",
        "The talks will be led by Mr Park Min-jun, a senior foreign ministry official, and Mr Daniel "
        "Hartley, a US State Department envoy, the ministry said in a statement, adding that the first "
        "round would be held in Seoul.",
        "Mr Park told reporters that both sides wanted a deal before the end of the year. Washington has "
        "previously said that defence cost-sharing would be part of a wider package that also covers "
        "trade and shipbuilding.",
        "South Korea currently pays about 1.5 trillion won a year under a five-year agreement that runs "
        "until 2030, and officials in Seoul have said they see little room for a steep rise.",
        "About 28,500 US troops are stationed in South Korea, a legacy of the 1950-53 Korean War, which "
        "ended in an armistice rather than a peace treaty.",
        'Mr Hartley said the United States valued the alliance and expected a "fair and balanced" outcome '
        "that reflected the security situation in the region.",
    ]
    assert article.wire_service == "Reuters"
    assert article.title == "South Korea, US to start talks on sharing cost of American troops"
    assert article.published_at == datetime(2025, 11, 27, 6, 5, tzinfo=timezone.utc)
    assert article.language == "en"
    assert article.site_name == "The Straits Times"
    assert article.page_url == ST_URL
    assert article.description == "Both sides want a deal before the end of the year, Seoul's defence ministry says."


def test_ap_copy_keeps_dateline_and_drops_copyright_notice():
    article = extract_article(page("ap_copy.html"), "https://www.lakesideherald.example/a")

    assert article.wire_service == "AP"
    assert any(p.startswith("PHOENIX (AP) — A fast-growing desert city") for p in paragraphs(article.text))
    assert "may not be published" not in article.text
    assert article.authors == "Maria Santos"
    assert article.published_at == datetime(2025, 8, 14, 16, 30, tzinfo=timezone.utc)


def test_afp_copy_drops_photo_credit():
    article = extract_article(page("afp_copy.html"), "https://riverside.example/a")

    assert article.wire_service == "AFP"
    assert paragraphs(article.text)[0].startswith("PARIS (AFP) - The Louvre will close")
    assert "PHOTO" not in article.text
    assert article.title == "Louvre to close a wing for two years of repairs"


def test_own_story_with_reuters_photo_is_not_wire_copy():
    article = extract_article(page("own_story_reuters_photo.html"), "https://harbourpost.example/a")

    assert article.wire_service is None
    assert "FILE PHOTO" not in article.text and "REUTERS/" not in article.text
    assert "A spokesman told Reuters earlier this month" in article.text
    assert len(paragraphs(article.text)) == 4


def test_associated_press_writers_contributed_is_not_wire_copy():
    article = extract_article(page("ap_writers_contributed.html"), "https://ledger.example/a")

    assert article.wire_service is None
    assert paragraphs(article.text)[-1] == (
        "Associated Press writers Tom Reed in Boise and Ana Ruiz in Denver contributed to this report."
    )


@pytest.mark.parametrize("name", sorted(p.name for p in PAGES.glob("*.html")))
def test_paragraphs_are_separated_by_one_blank_line(name):
    text = extract_article(page(name), "https://example.com/a").text

    assert "\n\n\n" not in text
    assert all(p and "\n" not in p and p == p.strip() for p in paragraphs(text))


def test_str_and_bytes_give_the_same_article_every_time():
    html = page("straits_times_reuters.html")
    first = extract_article(html, ST_URL)

    assert extract_article(html.decode("utf-8"), ST_URL) == first
    assert extract_article(html, ST_URL) == first  # no cache shared between calls


def test_is_picklable_for_worker_processes():
    assert pickle.loads(pickle.dumps(extract_article)) is extract_article


def test_page_timestamp_wins_over_feed():
    feed_time = datetime(2025, 1, 1, tzinfo=timezone.utc)
    html = plain_page('<meta property="article:published_time" content="2025-02-03T10:00:00+02:00">')

    article = extract_article(html, "https://example.com/a", feed_published_at=feed_time)

    assert article.published_at == datetime(2025, 2, 3, 8, 0, tzinfo=timezone.utc)


def test_json_ld_article_date_wins_over_meta_and_other_objects():
    head = (
        '<meta property="article:published_time" content="2025-02-03T10:00:00Z">'
        '<script type="application/ld+json">[{"@type": "WebPage", "datePublished": "2020-01-01T00:00:00Z"},'
        '{"@type": "ReportageNewsArticle", "datePublished": "2025-02-03T09:30:00Z"}]</script>'
    )

    article = extract_article(plain_page(head), "https://example.com/a")

    assert article.published_at == datetime(2025, 2, 3, 9, 30, tzinfo=timezone.utc)


def test_feed_time_is_used_when_page_has_no_timestamp_or_one_without_zone():
    feed_time = datetime(2025, 2, 3, 7, 45, tzinfo=timezone(timedelta(hours=-5)))
    for head in ("", '<meta name="pubdate" content="2025-02-03T12:00:00">'):
        article = extract_article(plain_page(head), "https://example.com/a", feed_published_at=feed_time)
        assert article.published_at == datetime(2025, 2, 3, 12, 45, tzinfo=timezone.utc)


def test_page_time_without_zone_is_taken_as_utc_without_feed_time():
    article = extract_article(plain_page('<meta name="pubdate" content="2025-02-03 12:00:00">'), "https://example.com/a")

    assert article.published_at == datetime(2025, 2, 3, 12, 0, tzinfo=timezone.utc)


def test_language_from_page_else_from_text():
    assert extract_article(plain_page(lang=' lang="en-GB"'), "https://example.com/a").language == "en"
    german = html_page(
        "<h1>Stadtrat beschließt neue Buslinien</h1>"
        + "<p>Der Stadtrat hat am Montag nach einer langen Debatte drei neue Buslinien beschlossen, "
        "die ab dem Sommer durch die Innenstadt und die östlichen Vororte fahren sollen.</p>" * 3,
        lang="",
    )
    assert extract_article(german, "https://example.com/a").language == "de"


def test_feed_title_when_page_has_none():
    html = html_page("<p>The city council approved three new bus routes on Monday.</p>" + f"<p>{FILLER}</p>" * 3)

    article = extract_article(html, "https://example.com/a", feed_title="Council approves bus routes")

    assert article.title == "Council approves bus routes"


@pytest.mark.parametrize(
    "html",
    [
        "",
        b"   \n",
        b'{"status": "ok", "items": []}',
        b"%PDF-1.7 binary",
        "<html><head><title>Home</title></head><body><nav><a href='/'>Home</a></nav></body></html>",
    ],
)
def test_pages_without_article_text_raise(html):
    with pytest.raises(ExtractionError, match="https://example.com/a"):
        extract_article(html, "https://example.com/a")


def test_oversized_json_ld_is_read_whole_and_slimmed_for_trafilatura():
    update = {"@type": "BlogPosting", "articleBody": 'He said "no" and left. ' * 50}
    live_blog = {
        "@type": "LiveBlogPosting",
        "headline": "Live: the summit",
        "datePublished": "2025-02-03T09:30:00Z",
        "author": {"@type": "Person", "name": "Jane Roe"},
        "liveBlogUpdate": [update] * 200,
    }
    tree = fromstring(f"<html><head><script type='application/ld+json'>{json.dumps(live_blog)}</script></head></html>")

    assert _read_json_ld(tree) == [live_blog]
    slimmed = json.loads(tree.find(".//script").text)
    assert slimmed == {key: value for key, value in live_blog.items() if key != "liveBlogUpdate"}


def test_teasers_linking_to_other_stories_leave_the_text_and_not_the_wire_credit():
    teasers = "".join(
        f"<li><a href='/news/{i}'>Harbour story number {i} draws a crowd to the quay</a></li>" for i in range(6)
    )
    body = (
        "<h1>Council approves new bus routes</h1>"
        "<p>The city council approved three new bus routes on Monday after a long debate.</p>"
        + f"<p>{FILLER}</p>" * 3
        + "<p>Associated Press</p>"
        + f"<ul>{teasers}</ul>"
    )
    article = extract_article(html_page(body), "https://www.example.com/council-bus-routes")

    assert "Harbour story" not in article.text
    assert article.wire_service == "AP"


def test_zero_width_joiners_as_characters_and_entities_survive():
    body = (
        "<h1>Council approves new bus routes</h1>"
        "<p>The word \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 and the family emoji \U0001F468&zwj;\U0001F469 "
        "stay whole, and so does \u0628&#8204;\u0647.</p>"
        + f"<p>{FILLER}</p>" * 3
    )
    article = extract_article(html_page(body), "https://www.example.com/joiners")

    assert "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645" in article.text
    assert "\U0001F468\u200d\U0001F469" in article.text
    assert "\u0628\u200c\u0647" in article.text


def test_a_page_the_main_extractor_finds_little_in_still_gives_its_article():
    # the story sits in <div>s with line breaks, no <p>: trafilatura's fallbacks are needed
    story = "<br>".join([
        "The city council approved three new bus routes on Monday after a long debate.", FILLER, FILLER, FILLER,
    ])
    page_html = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Council approves new bus routes</title>"
        "</head><body><nav><a href='/'>Home</a></nav><div class='story-text'>" + story + "</div>"
        "<footer><a href='/terms'>Terms</a></footer></body></html>"
    )
    article = extract_article(page_html, "https://www.example.com/council")

    assert "approved three new bus routes" in article.text
    assert FILLER in article.text
