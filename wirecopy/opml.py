"""OPML in and out of feeds.toml: `wirecopy feeds import` and `wirecopy feeds export`.

Import appends [[feeds]] tables as text, so the comments, [settings] and layout of the file stay
as they are. Export writes OPML 2.0 as Miniflux and FreshRSS read it: one level of folders (their
categories) holding `type="rss"` outlines with `text`, `title` and `xmlUrl`. Nested folders become
a `category` path ("News/World"), exported as one folder of that name. Keys wirecopy keeps on a
feed beyond outlet, url and category travel as `wirecopy:` attributes (readers ignore them), so
export then import gives back the same feeds.
"""
from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit

from lxml import etree

from tasks.core.errors import ConfigError
from tasks.core.settings import load_feeds
from tasks.urls import BadURL, canonicalize_url

NAMESPACE = "urn:wirecopy:feeds"
_ATTR = "{" + NAMESPACE + "}"  # lxml's {namespace}name
_TOML_PREFIX = "toml:"  # a non-string value (or a string that starts so), as a TOML value
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


class OpmlError(ConfigError):
    """The OPML file cannot be read, or a feed cannot be written (a usage error: exit 2)."""


@dataclass(frozen=True)
class OpmlFeed:
    outlet: str
    url: str
    category: str | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class ImportReport:
    added: list[OpmlFeed] = field(default_factory=list)
    duplicates: list[tuple[OpmlFeed, str]] = field(default_factory=list)  # (feed, the URL it duplicates)
    skipped: list[tuple[OpmlFeed, str]] = field(default_factory=list)  # (feed, why)


def toml_value(value: object) -> str:
    """A TOML value: strings as basic strings, tables inline."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)  # TOML writes inf and nan as Python does
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise OpmlError(f"cannot write {value!r} as TOML")


def toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else toml_value(key)


def _encode(value: object) -> str:
    if isinstance(value, str) and not value.startswith(_TOML_PREFIX):
        return value
    return _TOML_PREFIX + toml_value(value)


def _decode(text: str) -> object:
    if not text.startswith(_TOML_PREFIX):
        return text
    try:
        return tomllib.loads("v = " + text[len(_TOML_PREFIX):])["v"]
    except tomllib.TOMLDecodeError:
        return text


def _attr(outline: etree._Element, name: str) -> str | None:
    """An attribute by name, whatever its case (exporters write xmlUrl, xmlurl, XMLURL)."""
    for key, value in outline.attrib.items():
        if isinstance(key, str) and not key.startswith("{") and key.lower() == name.lower():
            return value.strip() or None
    return None


def read_opml(data: bytes, source: str) -> list[OpmlFeed]:
    """Every outline with an xmlUrl, in document order, with the folders it sits in as its category."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise OpmlError(f"{source} is not well-formed XML: {exc}") from None
    if root is None or etree.QName(root).localname.lower() != "opml":
        raise OpmlError(f"{source} is not OPML (no <opml> root element)")
    body = next((c for c in root if isinstance(c.tag, str) and etree.QName(c).localname.lower() == "body"), None)
    if body is None:
        raise OpmlError(f"{source} is OPML without a <body>")
    feeds: list[OpmlFeed] = []

    def walk(node: etree._Element, folders: list[str]) -> None:
        for outline in node:
            if not isinstance(outline.tag, str) or etree.QName(outline).localname.lower() != "outline":
                continue
            name = _attr(outline, "title") or _attr(outline, "text")
            url = _attr(outline, "xmlUrl")
            if url:
                extra = {k[len(_ATTR):]: _decode(v) for k, v in outline.attrib.items()
                         if isinstance(k, str) and k.startswith(_ATTR)}
                category = str(extra.pop("category", "") or "") or ("/".join(folders) if folders else None)
                feeds.append(OpmlFeed(outlet=name or urlsplit(url).hostname or url, url=url,
                                      category=category, extra=extra))
            else:
                walk(outline, folders + [name] if name else folders)

    walk(body, [])
    return feeds


def _canonical(url: str) -> str:
    return canonicalize_url(url)


def import_opml(opml_path: Path, feeds_path: Path) -> ImportReport:
    """Append the OPML file's feeds that feeds.toml lacks (compared canonically) to feeds.toml."""
    try:
        data = opml_path.read_bytes()
    except OSError as exc:
        raise OpmlError(f"cannot read {opml_path}: {exc.strerror or exc}") from None
    found = read_opml(data, str(opml_path))
    existing_text = feeds_path.read_text(encoding="utf-8") if feeds_path.exists() else ""
    try:
        existing = tomllib.loads(existing_text).get("feeds", [])
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"feeds file {feeds_path} is not valid TOML: {exc}") from None
    known: dict[str, str] = {}
    for entry in existing if isinstance(existing, list) else []:
        url = entry.get("url") if isinstance(entry, dict) else None
        if isinstance(url, str):
            try:
                known[_canonical(url)] = url
            except BadURL:
                known[url] = url
    report = ImportReport()
    for feed in found:
        try:
            key = _canonical(feed.url)
        except BadURL as exc:
            report.skipped.append((feed, str(exc)))
            continue
        if key in known:
            report.duplicates.append((feed, known[key]))
            continue
        known[key] = feed.url
        report.added.append(feed)
    if not report.added:
        return report
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# Imported from {opml_path.name} on {stamp} ({len(report.added)} feeds)."]
    for feed in report.added:
        lines += ["", "[[feeds]]", f"outlet = {toml_value(feed.outlet)}", f"url = {toml_value(feed.url)}"]
        if feed.category:
            lines.append(f"category = {toml_value(feed.category)}")
        lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in feed.extra.items()
                  if k not in ("outlet", "url", "category")]
    separator = "" if not existing_text or existing_text.endswith("\n\n") else (
        "\n" if existing_text.endswith("\n") else "\n\n")
    new_text = existing_text + separator + "\n".join(lines) + "\n"
    tomllib.loads(new_text)  # what is appended is valid TOML, or nothing is written
    tmp = feeds_path.with_name(feeds_path.name + ".importing")
    tmp.write_text(new_text, encoding="utf-8")
    try:
        load_feeds(tmp)
    except ConfigError as exc:
        tmp.unlink()
        raise ConfigError(f"the imported feeds would make {feeds_path} invalid: {exc}") from None
    tmp.replace(feeds_path)
    return report


def export_opml(feeds_path: Path) -> bytes:
    """OPML 2.0 of every [[feeds]] entry, in file order, folders by category."""
    feeds = load_feeds(feeds_path)
    opml = etree.Element("opml", version="2.0", nsmap={"wirecopy": NAMESPACE})
    head = etree.SubElement(opml, "head")
    etree.SubElement(head, "title").text = f"wirecopy feeds ({feeds_path.name})"
    etree.SubElement(head, "dateCreated").text = format_datetime(datetime.now(timezone.utc), usegmt=True)
    body = etree.SubElement(opml, "body")
    folder, folder_name = body, None
    for feed in feeds:
        category = feed.extra.get("category")
        name = category if isinstance(category, str) and category else None
        if name != folder_name or name is None:
            folder = etree.SubElement(body, "outline", text=name, title=name) if name else body
            folder_name = name
        outline = etree.SubElement(folder, "outline", type="rss", text=feed.outlet, title=feed.outlet,
                                   xmlUrl=feed.url)
        for key, value in feed.extra.items():
            if key == "category" and name is not None:
                continue
            if not _XML_NAME.fullmatch(key):
                raise OpmlError(f"feed {feed.url}: key {key!r} cannot be an OPML attribute")
            outline.set(_ATTR + key, _encode(value))
    return etree.tostring(opml, xml_declaration=True, encoding="UTF-8", pretty_print=True)
