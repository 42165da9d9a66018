"""Turn one fetched article page into an ExtractedArticle: cleaned body, metadata, wire service.

Pure and module-level so worker processes can run it; nothing here keeps state between calls
(trafilatura's `deduplicate` cache is process-wide, so it stays off).
"""
from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from html import unescape
from typing import Any
from urllib.parse import urlsplit

import py3langid
from htmldate import find_date
from lxml.etree import _Element, strip_elements, strip_tags
from lxml.html import HtmlElement
from trafilatura import bare_extraction, load_html
from trafilatura.core import ESCALATION_MAX_LENGTH, ESCALATION_PAGE_SHARE, _forum_thread_page
from trafilatura.htmlprocessing import convert_tags, tree_cleaning
from trafilatura.main_extractor import _elem_text, _extract
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_author,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import MIN_DUPLICATE_LENGTH, Document, Extractor, set_date_params
from trafilatura.utils import SPACING_PROTECTED, decode_file, line_processing, text_chars_test
from trafilatura.xml import delete_element, xmltotxt
from trafilatura.xpaths import _COMMENTS_CLASS, _COMMENTS_ID

from tasks.clean import LINK_TEXT_MIN_CHARS, clean_lines, is_link_line, split_lines
from tasks.core.errors import ExtractionError
from tasks.core.records import ExtractedArticle
from tasks.wire import detect_wire

PROSE_MIN_WORDS = 4  # a shorter line is a label (a menu item, a button), not text


# Page parts that are not the article, whatever the site (tested on class names): embedded social
# posts (quoted from elsewhere), text only screen readers get (it repeats link and image text) and
# fact boxes (lists and transcripts beside the story; trafilatura already drops one site's "mol-factbox").
_EMBED_CLASSES = ("twitter-tweet", "instagram-media", "tiktok-embed", "bluesky-embed")
_NOT_ARTICLE_CLASSES = ("sr-only", "visually-hidden", "screen-reader-text", "factbox", "fact-box")
_NOT_ARTICLE = (  # the same, for trafilatura's `prune_xpath` in the full cascade
    "//*[@class][(self::blockquote and ("
    + " or ".join(f"contains(@class, '{c}')" for c in _EMBED_CLASSES) + ")) or "
    + " or ".join(f"contains(@class, '{c}')" for c in _NOT_ARTICLE_CLASSES) + "]"
)
# Meta tags (name, property or itemprop, lowercased) that carry the publication timestamp.
_DATE_META = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "date",
)
_LANG_META = ("content-language", "og:locale", "language", "dc.language")
_JSON_LD_MAX_CHARS = 100_000
_JSON_LD_BULK = frozenset({"articleBody", "liveBlogUpdate"})
_LANG_CODE = re.compile(r"^([a-zA-Z]{2,3})(?:[-_]|$)")
_TITLE_SEPARATOR = re.compile(r"\s+[|\-–—:•*]\s*$")


def _metadata(tree: HtmlElement, url: str) -> Document:
    """trafilatura's extract_metadata (2.3) less what wirecopy does not use: categories, tags and
    license (a third of its time) and the date, which `_trafilatura_date` finds only when needed."""
    metadata = examine_meta(tree)
    if metadata.author and " " not in metadata.author:
        metadata.author = None
    try:
        metadata = extract_meta_json(tree, metadata)
    except Exception:  # noqa: BLE001 (trafilatura's JSON-LD reader has bugs; it logs and goes on too)
        pass
    if not metadata.title:
        metadata.title = extract_title(tree)
    if not metadata.author:
        metadata.author = extract_author(tree)
    if not metadata.url:
        metadata.url = extract_url(tree, url)
    if not metadata.sitename:
        metadata.sitename = extract_sitename(tree)
    if metadata.sitename:
        metadata.sitename = metadata.sitename.lstrip("@")
        if metadata.sitename and "." not in metadata.sitename and not metadata.sitename[0].isupper():
            metadata.sitename = metadata.sitename.title()
    elif metadata.url:
        match = META_URL.match(metadata.url)
        if match:
            metadata.sitename = match[1]
    metadata.clean_and_trim()
    return metadata


def _trafilatura_date(tree: HtmlElement, page_url: str | None) -> str | None:
    """The day htmldate finds, as trafilatura's metadata would give it."""
    found = find_date(tree, **{**set_date_params(True), "url": page_url})
    return line_processing(unescape(found)) if found else None


def _read_json_ld(tree: HtmlElement) -> list[dict]:
    """Top-level JSON-LD objects and @graph members, in page order; broken blocks skipped.

    Oversized blocks are slimmed in place once read: trafilatura's JSON-LD reader fails on
    escaped quotes and falls back to regular expressions whose cost grows much faster than the
    block (a live blog's 800 kB block takes a second). Live-blog updates and article bodies go,
    the fields it reads (headline, author, publisher) stay; an oversized block that is not JSON goes.
    """
    objects = []
    for script in tree.iterfind('.//script[@type="application/ld+json"]'):
        oversized = len(script.text or "") > _JSON_LD_MAX_CHARS
        try:
            data = json.loads(script.text or "", strict=False)
        except (ValueError, RecursionError):  # broken, or nested past Python's stack
            if oversized:
                script.getparent().remove(script)
            continue
        if oversized:
            script.text = json.dumps(_without_bulk(data))
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict):
                graph = item.get("@graph")
                objects += [item] + [g for g in (graph if isinstance(graph, list) else []) if isinstance(g, dict)]
    return objects


def _without_bulk(data: object) -> object:
    """JSON data without the keys that carry whole texts."""
    if isinstance(data, dict):
        return {k: _without_bulk(v) for k, v in data.items() if k not in _JSON_LD_BULK}
    if isinstance(data, list):
        return [_without_bulk(v) for v in data]
    return data


def _is_article(obj: dict) -> bool:
    """True for schema.org Article/NewsArticle/BlogPosting-like objects (not WebPage, Organization)."""
    types = obj.get("@type")
    return any(str(t).endswith(("Article", "Posting")) for t in (types if isinstance(types, list) else [types]))


def _meta_values(tree: HtmlElement) -> dict[str, list[str]]:
    """Values of meta tags and itemprop elements by lowercased name, property, itemprop or http-equiv."""
    found: dict[str, list[str]] = {}
    for elem in tree.xpath("//meta|//*[@itemprop]"):
        name = elem.get("property") or elem.get("name") or elem.get("itemprop") or elem.get("http-equiv")
        value = elem.get("content") or elem.get("datetime")
        if name and value:
            found.setdefault(name.lower(), []).append(value)
    return found


def _parse_timestamp(value: str) -> datetime | None:
    """A date with a time of day (ISO 8601 or RFC 2822); None for a day alone or garbage."""
    value = value.strip()
    if ":" not in value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None


def _as_utc(moment: datetime) -> datetime:
    """Timezone-aware UTC; a naive time is taken as UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _published_at(
    objects: list[dict],
    meta: dict[str, list[str]],
    feed_published_at: datetime | None,
    trafilatura_date: Callable[[], str | None],
) -> datetime | None:
    """Publication time: the page's own timestamp, then the feed's, then trafilatura's day
    (htmldate's search, run only when nothing else gave a time).

    A page timestamp without a zone ranks after the feed's, which nearly always has one.
    """
    articles_first = sorted(objects, key=lambda o: not _is_article(o))
    candidates = [str(o["datePublished"]) for o in articles_first if o.get("datePublished")]
    candidates += [value for key in _DATE_META for value in meta.get(key, [])]
    stamps = [s for s in map(_parse_timestamp, candidates) if s is not None]
    ranked = [s for s in stamps if s.tzinfo is not None]
    ranked += [feed_published_at] if feed_published_at else []
    ranked += [s for s in stamps if s.tzinfo is None]
    if ranked:
        return _as_utc(ranked[0])
    day = trafilatura_date()
    try:
        return _as_utc(datetime.fromisoformat(day)) if day else None
    except ValueError:
        return None


def _language(html_lang: str | None, objects: list[dict], meta: dict[str, list[str]], text: str) -> str:
    """ISO 639 code the page declares, else the one py3langid identifies from the text."""
    declared = [html_lang or ""] + [value for key in _LANG_META for value in meta.get(key, [])]
    declared += [str(o.get("inLanguage") or "") for o in objects if _is_article(o)]
    for value in declared:
        match = _LANG_CODE.match(value.strip())
        if match:
            return match.group(1).lower()
    return py3langid.classify(text)[0]


def _link_texts(tree: HtmlElement, url: str) -> frozenset[str]:
    """Texts of the links to other pages (whitespace collapsed). Links within the page (a table of
    contents, live-blog entries) and to the page itself (its lead in a teaser or share box) are left out."""
    own_path = urlsplit(url).path.rstrip("/")
    texts = set()
    for anchor in tree.iter("a"):
        href = anchor.get("href")
        if not href or href[0] == "#" or href.startswith("javascript:"):
            continue
        if own_path and own_path in href and urlsplit(href.strip()).path.rstrip("/") == own_path:
            continue
        text = " ".join(anchor.text_content().split())
        if len(text) >= LINK_TEXT_MIN_CHARS:
            texts.add(text)
    return frozenset(texts)


def _clean_title(title: str | None, site_name: str | None) -> str | None:
    """The headline without a trailing " - Site Name" that the page's <title> carries."""
    if title and site_name and title.lower().endswith(site_name.lower()):
        head = title[: -len(site_name)]
        if _TITLE_SEPARATOR.search(head):
            return _TITLE_SEPARATOR.sub("", head) or title
    return title


def extract_article(
    html: str | bytes,
    url: str,
    *,
    feed_title: str | None = None,
    feed_published_at: datetime | None = None,
) -> ExtractedArticle:
    """Extract the article body and metadata of one page and tell whether it is wire copy.

    Raises ExtractionError when the page holds no article text.
    """
    if not html or not html.strip():
        raise ExtractionError(f"empty page: {url}")
    source = decode_file(html)
    joiners = _has_joiners(source)
    if joiners:
        source = _protect_joiners(source)
    tree = load_html(source)
    if tree is None:
        raise ExtractionError(f"not an HTML page: {url}")
    article = _extract_from_tree(tree, source, url, feed_title, feed_published_at)
    return _restore_joiners(article) if joiners else article


# trafilatura drops zero-width (non-)joiners, which changes Persian words and splits emoji
# sequences. Stand-ins carry them through and are swapped back afterwards: two rare maths
# symbols, since trafilatura also strips private-use characters. The swap is made on the decoded
# page before parsing, and only on pages that hold a joiner (as a character or an entity).
_JOINERS = {"\u200c": "\u2a0d", "\u200d": "\u2a0e"}
_JOINER_ENTITY = re.compile(r"&(?:(zwn?j)|#(8204|8205)|#[xX](200[cCdD]));", re.IGNORECASE)


def _has_joiners(source: str) -> bool:
    return "\u200c" in source or "\u200d" in source or ("&" in source and bool(_JOINER_ENTITY.search(source)))


def _swap(text: str, table: dict[str, str]) -> str:
    for old, new in table.items():
        text = text.replace(old, new)
    return text


def _protect_joiners(source: str) -> str:
    def stand_in(match: re.Match) -> str:
        name, decimal, hexadecimal = match.groups()
        non_joiner = (name or "").lower() == "zwnj" or decimal == "8204" or (hexadecimal or "").lower() == "200c"
        return _JOINERS["\u200c" if non_joiner else "\u200d"]

    return _JOINER_ENTITY.sub(stand_in, _swap(source, _JOINERS))


def _restore_joiners(article: ExtractedArticle) -> ExtractedArticle:
    back = {v: k for k, v in _JOINERS.items()}
    swapped: dict[str, Any] = {name: _swap(value, back) for name, value in vars(article).items()
                               if isinstance(value, str)}
    return dataclasses.replace(article, **swapped)


def _extract_from_tree(tree: HtmlElement, source: str, url: str, feed_title: str | None,
                       feed_published_at: datetime | None) -> ExtractedArticle:
    objects, meta = _read_json_ld(tree), _meta_values(tree)
    metadata = _metadata(tree, url)
    # read from the page as parsed, before the extraction below takes the tree apart
    published_at = _published_at(objects, meta, feed_published_at, lambda: _trafilatura_date(tree, metadata.url))
    html_lang = tree.get("lang")
    link_texts = _link_texts(tree, url)
    lines = split_lines(_body_text(tree, source, url, objects))
    if not lines:
        raise ExtractionError(f"no article text found: {url}")
    title = _clean_title(metadata.title, metadata.sitename) or feed_title
    story_end = len(lines)  # teaser lists after the story would push its closing credit out of view
    while story_end > 1 and is_link_line(lines[story_end - 1], link_texts):
        story_end -= 1
    wire = detect_wire(
        "\n".join(lines[:story_end]), title=metadata.title, authors=metadata.author, site_name=metadata.sitename,
        url=url,
    )
    paragraphs = clean_lines(lines, title=title, authors=metadata.author, link_texts=link_texts)
    if not paragraphs and not any(len(line.split()) >= PROSE_MIN_WORDS for line in lines):
        raise ExtractionError(f"no article text left after cleaning: {url}")  # labels only: a menu, a button
    text = "\n\n".join(paragraphs or lines)  # cleaning emptied a page of text: keep what extraction found
    return ExtractedArticle(
        title=title,
        authors=metadata.author,
        published_at=published_at,
        text=text,
        language=_language(html_lang, objects, meta, text),
        wire_service=wire,
        site_name=metadata.sitename,
        description=metadata.description,
        page_url=metadata.url or url,
        cleaning_emptied=not paragraphs,
    )


# trafilatura's raw-tree prunes with comments off (RAW_TREE_PRUNE_XPATH and
# REMOVE_COMMENTS_AND_LISTS_XPATH in trafilatura.xpaths), restated: lxml runs those XPaths' regular
# expressions through Python for every element, one expression after the other, which cost about
# as much as the main extractor. Here one walk finds the few elements whose class or id holds a
# word the tests need, and the exact tests run on those alone.
_APPENDED_ARTICLES = re.compile(r"mvp-post-add-(?:box|wrap)|infinite-?scroll")
_APPENDED_BOX = re.compile(r"mvp-post-add-(?:box|wrap)")
_COMMENTS_ID_RE = re.compile(rf"^(?:{_COMMENTS_ID}|disqus_thread|dsq-comments)")
_COMMENTS_LIST_ID_RE = re.compile(rf"^(?:{_COMMENTS_ID})")
_COMMENTS_CLASS_RE = re.compile(_COMMENTS_CLASS)
_CONTAINERS = frozenset({"div", "section", "aside"})
_COMMENT_CONTAINERS = frozenset({"div", "list", "section", "details", "ol", "ul"})
_CANDIDATE = re.compile("|".join(map(re.escape, (
    "mvp-post-add", "infinite", "elementor-share-buttons", "omment", "comol", "disqus_thread", "dsq-comments",
    "footer", *_EMBED_CLASSES, *_NOT_ARTICLE_CLASSES))))
# Elements holding no text trafilatura keeps (its tree cleaning deletes them too), and those its page
# measure (html2txt, BASIC_CLEAN_XPATH) leaves out, less its cookie-banner test: the measure only
# decides whether a short text is in doubt.
_NO_TEXT = ("script", "style", "svg", "fencedframe")
_OUT_OF_PAGE_TEXT = frozenset({"aside", "footer", "template"})


def _prunable(element: HtmlElement, tag: str, class_: str, id_: str) -> bool:
    if tag in _CONTAINERS and (
        (_APPENDED_ARTICLES.search(id_) or _APPENDED_ARTICLES.search(class_))
        and (element.find(".//h1") is None or _APPENDED_BOX.search(id_) or _APPENDED_BOX.search(class_))
        or "elementor-share-buttons" in class_
    ):
        return True
    if tag in _COMMENT_CONTAINERS and (
        (_COMMENTS_ID_RE.search(id_) or _COMMENTS_CLASS_RE.search(class_))
        and (tag not in ("ol", "ul") or _COMMENTS_LIST_ID_RE.search(id_) or _COMMENTS_CLASS_RE.search(class_))
    ):
        return True
    return bool(class_) and (
        (tag == "blockquote" and any(c in class_ for c in _EMBED_CLASSES))
        or any(c in class_ for c in _NOT_ARTICLE_CLASSES)
    )


def _prune(tree: HtmlElement) -> int:
    """Delete the parts trafilatura and wirecopy prune before extraction; returns about the length
    of the page's text as trafilatura's html2txt measures it (body text without asides, footers,
    scripts and styles), taken before the deletions."""
    doomed, out_of_text = [], []
    for element in tree.iter():
        tag = element.tag
        if tag in _OUT_OF_PAGE_TEXT:
            out_of_text.append(element)
        class_, id_ = element.get("class") or "", element.get("id") or ""
        if (class_ or id_) and (_CANDIDATE.search(class_) or _CANDIDATE.search(id_)):
            if _prunable(element, tag, class_, id_):
                doomed.append(element)
            if tag == "div" and ("footer" in class_ or "footer" in id_):
                out_of_text.append(element)
    strip_elements(tree, *_NO_TEXT, with_tail=False)
    body = tree.find(".//body")
    excluded = set(out_of_text)
    outermost = [e for e in out_of_text if not any(a in excluded for a in e.iterancestors())]
    page_text = _text_length(tree if body is None else body) - sum(map(_text_length, outermost))
    for element in doomed:
        delete_element(element)
    return page_text


def _text_length(element: HtmlElement) -> int:
    return len(" ".join(element.text_content().split()))


# A cheap pass whose text is shorter than this share of the article's JSON-LD articleBody missed part of it.
_ARTICLE_BODY_SHARE = 0.5


def _body_text(tree: HtmlElement, source: str, url: str, objects: list[dict]) -> str:
    """The article text as trafilatura finds it, from one pass over the tree (which it consumes).

    trafilatura.extract runs its main extractor, then readability (and justext) on a fresh copy of
    the page to compare, on every page. Here the main extractor runs alone, on the tree itself;
    the whole cascade (`bare_extraction` on the page, parsed again) runs only when that pass is in
    doubt: it found little text, no paragraphs, or less than the page's own articleBody, or the page
    is a forum thread (whose posts trafilatura treats apart).
    """
    if _forum_thread_page(tree):
        return _cascade_text(source, url)
    options = Extractor(output_format="python", comments=False, tables=False, url=url)
    page_text = _prune(tree)
    cleaned = convert_tags(tree_cleaning(tree, options), options, url)
    body, text, _ = _extract(cleaned, options)  # extract_content less the copy it keeps for short results
    if _in_doubt(body, text, objects, options) or (
        len(text) < ESCALATION_MAX_LENGTH and len(text) < ESCALATION_PAGE_SHARE * page_text
    ):
        return _cascade_text(source, url)
    return xmltotxt(_tidy(body), options.formatting)


def _cascade_text(source: str, url: str) -> str:
    document = bare_extraction(source, url=url, include_comments=False, include_tables=False,
                               prune_xpath=_NOT_ARTICLE)
    return document.text or "" if isinstance(document, Document) else ""


def _in_doubt(body: _Element, text: str, objects: list[dict], options: Extractor) -> bool:
    """True where trafilatura's fallbacks could change the result: the cases in which readability
    or justext replace its main extractor's text (short, no paragraph text, tables over
    paragraphs), and a text shorter than the articleBody the page declares."""
    if len(body) == 0 or len(text) < options.min_extracted_size:
        return True
    if not body.xpath(".//p//text()") or len(body.findall(".//table")) > len(body.findall(".//p")):
        return True
    declared = max((len(str(o.get("articleBody") or "")) for o in objects if _is_article(o)), default=0)
    return len(text) < _ARTICLE_BODY_SHARE * declared


def _tidy(body: _Element) -> _Element:
    """What trafilatura's `extract_content` does to its main extractor's result: drop a substantial
    block repeating the one before, unwrap divs, drop line breaks that only carried indentation."""
    previous = None
    for element in list(body):
        current = _elem_text(element)
        if current and current == previous and len(current) > MIN_DUPLICATE_LENGTH:
            delete_element(element, keep_tail=False)
        else:
            previous = current
    strip_elements(body, "done")
    strip_tags(body, "div")
    for linebreak in body.iter("lb"):
        if (linebreak.tail and not text_chars_test(linebreak.tail)
                and not any(a.tag in SPACING_PROTECTED for a in linebreak.iterancestors())):
            linebreak.tail = None
    return body
