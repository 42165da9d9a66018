"""`wirecopy feeds import` and `wirecopy feeds export`: OPML in and out of feeds.toml."""
from __future__ import annotations

import tomllib
from pathlib import Path

from lxml import etree

from tasks.core.settings import load_feeds
from wirecopy import cli

READER_EXPORT = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>My reader</title></head>
  <body>
    <outline text="News" title="News">
      <outline text="World">
        <outline type="rss" text="Harbour Gazette" title="Harbour Gazette" xmlUrl="https://gazette.example.org/world.xml"/>
        <outline type="rss" text="Le Monde (fr)" xmlurl="https://monde.example.org/rss?lang=fr&amp;utm_source=reader"/>
      </outline>
      <outline type="rss" title="Wire Digest" text="ignored when a title is given" xmlUrl="https://wire.example.org/feed.json"/>
    </outline>
    <outline type="rss" text="Straits" xmlUrl="https://WWW.STRAITSTIMES.COM/news/world/rss.xml?utm_medium=opml"/>
    <outline type="rss" text="Gazette again" xmlUrl="https://gazette.example.org/world.xml#top"/>
    <outline type="rss" text="Not a web feed" xmlUrl="ftp://files.example.org/feed.xml"/>
    <outline text="Empty folder"/>
  </body>
</opml>
"""

FEEDS_TOML = """# My feeds: keep this comment.
[settings]
page_max_bytes = 1000000   # and this one

[[feeds]]
outlet = "The Straits Times"
url = "https://www.straitstimes.com/news/world/rss.xml"
"""


def test_import_adds_new_feeds_with_their_folders_skips_duplicates_and_keeps_the_file(tmp_path, capsys):
    opml, feeds = tmp_path / "reader.opml", tmp_path / "feeds.toml"
    opml.write_bytes(READER_EXPORT)
    feeds.write_text(FEEDS_TOML)

    code = cli.main(["feeds", "import", str(opml), "--feeds", str(feeds)])
    out = capsys.readouterr().out

    assert code == 0
    assert feeds.read_text().startswith(FEEDS_TOML), "comments and [settings] stay as they were"
    assert tomllib.loads(feeds.read_text())["settings"] == {"page_max_bytes": 1000000}
    got = [(f.outlet, f.url, f.extra.get("category")) for f in load_feeds(feeds)]
    assert got == [
        ("The Straits Times", "https://www.straitstimes.com/news/world/rss.xml", None),
        ("Harbour Gazette", "https://gazette.example.org/world.xml", "News/World"),
        ("Le Monde (fr)", "https://monde.example.org/rss?lang=fr&utm_source=reader", "News/World"),
        ("Wire Digest", "https://wire.example.org/feed.json", "News"),
    ]
    assert out.startswith(f"added 3 feeds to {feeds}; 2 already there, 1 skipped")
    assert "duplicate: https://WWW.STRAITSTIMES.COM/news/world/rss.xml?utm_medium=opml" in out
    assert "duplicate: https://gazette.example.org/world.xml#top" in out
    assert "skipped: ftp://files.example.org/feed.xml" in out

    assert cli.main(["feeds", "import", str(opml), "--feeds", str(feeds)]) == 0
    assert capsys.readouterr().out.startswith("added 0 feeds"), "importing again adds nothing"


def test_export_then_import_gives_back_the_same_feeds(tmp_path, capsys):
    source = tmp_path / "feeds.toml"
    source.write_text("""
[[feeds]]
outlet = "Reuters"
url = "https://www.reuters.com/arc/outboundfeeds/news-sitemap/?outputType=xml"
type = "sitemap"
wire = "Reuters"

[[feeds]]
outlet = "Gazette \\"Daily\\" & Co <World>"
url = "https://gazette.example.org/world.xml?a=1&b=2"
category = "News/World"
sitemaps = ["https://gazette.example.org/sitemap-news.xml"]
weight = 2

[[feeds]]
outlet = "Café Crème"
url = "https://cafe.example.org/feed"
category = "News/World"
note = "toml:not a value"

[[feeds]]
outlet = "Ice Desk"
url = "https://ice.example.org/feed.json"
category = "Science"
since = 2025-04-01
""")
    opml = tmp_path / "out.opml"
    assert cli.main(["feeds", "export", "--feeds", str(source), "-o", str(opml)]) == 0
    back = tmp_path / "back.toml"
    assert cli.main(["feeds", "import", str(opml), "--feeds", str(back)]) == 0

    def feeds(path: Path) -> list[tuple]:
        return [(f.outlet, f.url, f.extra) for f in load_feeds(path)]

    assert feeds(back) == feeds(source)
    doc = etree.fromstring(opml.read_bytes())
    assert doc.get("version") == "2.0"
    folders = [o.get("text") for o in doc.find("body") if o.get("xmlUrl") is None]
    assert folders == ["News/World", "Science"], "one level of folders, as Miniflux and FreshRSS read them"
    outline = doc.find("body/outline[@xmlUrl]")
    assert (outline.get("type"), outline.get("text"), outline.get("title")) == ("rss", "Reuters", "Reuters")


def test_a_file_that_is_not_opml_fails_with_one_line_and_changes_nothing(tmp_path, capsys):
    bad, feeds = tmp_path / "bad.opml", tmp_path / "feeds.toml"
    bad.write_text("<html><body>not an outline</body></html>")
    feeds.write_text(FEEDS_TOML)

    code = cli.main(["feeds", "import", str(bad), "--feeds", str(feeds)])

    err = capsys.readouterr().err.strip()
    assert code == 2 and err == f"wirecopy: {bad} is not OPML (no <opml> root element)"
    assert feeds.read_text() == FEEDS_TOML
