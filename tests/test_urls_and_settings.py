from __future__ import annotations

from pathlib import Path

import pytest

from tasks.core.errors import ConfigError
from tasks.core.settings import load_feeds, load_settings
from tasks.urls import BadURL, article_id_for, canonicalize_url


def test_canonical_urls_drop_fragments_and_tracking_parameters():
    url = "HTTPS://www.Example.com/world/story-1?utm_source=rss&utm_medium=feed&id=7&fbclid=x#comments"
    assert canonicalize_url(url) == "https://www.example.com/world/story-1?id=7"


def test_relative_links_resolve_against_the_feed():
    assert canonicalize_url("/a/b", base="http://127.0.0.1:8000/feed.xml") == "http://127.0.0.1:8000/a/b"


@pytest.mark.parametrize("link", ["javascript:void(0)", "mailto:desk@example.com", "ftp://x/y", "", "data:,x"])
def test_non_web_links_are_rejected(link):
    with pytest.raises(BadURL):
        canonicalize_url(link)


def test_article_ids_are_stable_and_follow_the_canonical_url():
    assert article_id_for("https://a.example/x") == article_id_for("https://a.example/x")
    assert article_id_for("https://a.example/x") != article_id_for("https://a.example/y")


def test_environment_overrides_the_feeds_file_settings(tmp_path, monkeypatch):
    feeds = tmp_path / "feeds.toml"
    feeds.write_text('[settings]\npage_max_bytes = 1000\nuser_agent = "ua"\n\n[[feeds]]\noutlet="A"\nurl="http://127.0.0.1/f"\n')
    monkeypatch.setenv("WIRECOPY_PAGE_MAX_BYTES", "2000")
    monkeypatch.setenv("WIRECOPY_ALLOW_PRIVATE_NETWORKS", "1")
    monkeypatch.setenv("WIRECOPY_DB", str(tmp_path / "x.duckdb"))
    s = load_settings(feeds)
    assert (s.page_max_bytes, s.user_agent, s.allow_private_networks) == (2000, "ua", True)
    assert s.db_path == tmp_path / "x.duckdb"


@pytest.mark.parametrize("text,message", [
    ("[[feeds]]\nurl = 'http://127.0.0.1/f'\n", "needs an 'outlet'"),
    ("[[feeds]]\noutlet = 'A'\nurl = 'file:///etc/passwd'\n", "needs an http(s) 'url'"),
    ("title = 'no feeds'\n", "no [[feeds]] entries"),
    ("[[feeds]\n", "not valid TOML"),
    ("[settings]\nnonsense = 1\n[[feeds]]\noutlet='A'\nurl='http://127.0.0.1/f'\n", "unknown setting"),
    ("[settings]\ndb_memory_limit = 'lots'\n[[feeds]]\noutlet='A'\nurl='http://127.0.0.1/f'\n", "db_memory_limit"),
])
def test_a_broken_feeds_file_is_a_clear_error(tmp_path, text, message):
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        load_feeds(load_settings(feeds).feeds_path)


def test_the_lake_sits_beside_the_database_unless_a_catalog_is_set(tmp_path, monkeypatch):
    local = load_settings(tmp_path / "feeds.toml", tmp_path / "data" / "w.duckdb")
    assert local.lake_catalog == f"sqlite:{tmp_path / 'data' / 'w.lake.sqlite'}"
    assert local.lake_data_path == f"{tmp_path / 'data' / 'w.lake'}/"

    monkeypatch.setenv("WIRECOPY_CATALOG", "postgres:dbname=wirecopy host=127.0.0.1 port=5432")
    with pytest.raises(ConfigError, match="set data_path"):
        load_settings(tmp_path / "feeds.toml")
    monkeypatch.setenv("WIRECOPY_DATA_PATH", "s3://bucket/wirecopy/")
    team = load_settings(tmp_path / "feeds.toml")
    assert (team.lake_catalog, team.lake_data_path) == ("postgres:dbname=wirecopy host=127.0.0.1 port=5432",
                                                        "s3://bucket/wirecopy/")
    monkeypatch.setenv("WIRECOPY_CATALOG", "mysql:wirecopy")
    with pytest.raises(ConfigError, match="setting catalog"):
        load_settings(tmp_path / "feeds.toml")
def test_the_default_feeds_poll_the_wires_own_sitemaps_which_story_pickup_counts_as_the_agencies_pages():
    import duckdb

    from tasks.db import apply_migrations

    feeds = load_feeds(Path(__file__).resolve().parent.parent / "feeds.toml")
    wires = {f.extra["wire"]: f for f in feeds if "wire" in f.extra}
    assert set(wires) == {"Reuters", "AP"}
    assert all(f.extra.get("type") == "sitemap" for f in wires.values())
    con = duckdb.connect()
    apply_migrations(con)
    for wire, feed in wires.items():
        assert con.execute("SELECT wire_own_site(?)", [feed.url]).fetchone()[0] == wire, feed.url


def test_an_unknown_feed_type_is_a_clear_error(tmp_path):
    path = tmp_path / "feeds.toml"
    path.write_text('[[feeds]]\noutlet = "A"\nurl = "https://a.example.org/feed"\ntype = "atom"\n')
    with pytest.raises(ConfigError, match="type 'atom'; expected one of rss, json, sitemap"):
        load_feeds(path)
