"""Recognise wire copy (Reuters, AP, AFP) and strip the agencies' boilerplate from a body.

Markers are evidence of different strength. A dateline "SEOUL, Nov 27 (Reuters) -", an agency
byline or author, a bare closing credit line, the Reuters "Reporting by ...; Editing by ..."
footer, the AP copyright notice, or the agency's own site each show that the agency wrote the
story. An agency named in the body ("told AFP") is weak evidence: it only breaks ties. Photo
captions ("REUTERS/Kim Hong-Ji", "PHOTO: AFP") only show where a picture came from and are no
evidence at all; nor is "Associated Press writers ... contributed", which marks a story only
partly built on wire copy.
"""
from __future__ import annotations

import re
from functools import cache
from urllib.parse import urlsplit

from tasks.clean import is_boilerplate, is_caption, is_credit_line, is_furniture, split_lines
from tasks.db import wire_agency_sites

# How each agency's name is written in bylines, credits, authors and site names.
_NAMES = {
    "Reuters": r"(?:thomson\s+)?reuters",
    "AP": r"(?:the\s+)?associated\s+press|ap",
    "AFP": r"agence\s+france[\s-]presse|afp",
}

_BYLINE_LINES = 4  # bylines sit in the first lines
_DATELINE_LINES = 10  # datelines may follow a headline, deck, byline and date lines
_TAIL_LINES = 4  # credits and footers in the last ones
_BYLINE_MAX_WORDS = 12
_DATELINE_REACH = 120  # characters into a line where a dateline may end

_DATELINE = re.compile(r"\((Reuters|AP|AFP)\)\s*[-–—]")
# "By JOSH BOAK Associated Press", "Jill Colvin, The Associated Press", "By ROBERT BURNS, AP National
# Security Writer", "Associated Press Monday, July 16, 2018": the agency closes the names (after "By"
# or a separator, so a headline "Trump tells AP" is none), then maybe a title and the day.
_BYLINE = {
    a: re.compile(
        rf"^(?:by\s+[^.!?]*?[\s,|/•-]*|[^.!?,|•/]*?\s*[,|•-]\s*)?(?:{n})"
        r"(?:\s+(?:\w+\s+){0,2}writer|\s+staff)?(?:[\s|•,-]*\w+day\b.*)?[\s|•]*$",
        re.I,
    )
    for a, n in _NAMES.items()
}
_NAMED = {a: re.compile(rf"\b(?:{n})\b", re.I) for a, n in _NAMES.items()}
_SITE = {a: re.compile(rf"^(?:{n})(?:\s+news)?$", re.I) for a, n in _NAMES.items()}
_TITLE_SUFFIX = {a: re.compile(rf"[|\-–—]\s*(?:{n})(?:\s+news)?$", re.I) for a, n in _NAMES.items()}
_APPENDED_CREDIT = re.compile(r"(?<=[.!?\"”’])\s*[-–—]\s*\(?(Reuters|AFP|AP)\)?$")
_REUTERS_FOOTER = re.compile(r"\b(?:reporting|writing)\s+by\b.*\bediting\s+by\b", re.I)
_AP_NOTICE = re.compile(r"may not be published, broadcast, rewritten,? or redistributed", re.I)
_CONTRIBUTED = re.compile(r"\bcontributed(?:\s+(?:to\s+)?(?:this\s+)?(?:report|reporting|story))?\s*\.?$", re.I)
_MENTION = {
    "Reuters": re.compile(r"\bReuters\b"),
    "AP": re.compile(r"\b(?:Associated Press|AP)\b"),
    "AFP": re.compile(r"\b(?:AFP|Agence France-Presse)\b"),
}


def _credit_agency(line: str) -> str | None:
    """The agency a bare credit line ("- Reuters") names."""
    name = line.strip(" -–—().")
    return next((a for a, n in _NAMES.items() if re.fullmatch(n, name, re.I)), None)


def _ignored(line: str) -> bool:
    """True for lines that are no evidence and would push datelines and credits out of view:
    captions, "... contributed to this report", site prompts (but the AP notice counts), date and
    source lines (but a bare credit counts)."""
    return bool(
        is_caption(line) or _CONTRIBUTED.search(line) or (is_boilerplate(line) and not _AP_NOTICE.search(line))
        or (is_furniture(line) and not is_credit_line(line))
    )


@cache
def _agency_domains() -> dict[str, tuple[str, ...]]:
    """The agencies' own domains, from the one list the database's wire_own_site() reads too."""
    domains: dict[str, tuple[str, ...]] = {}
    for agency, domain in wire_agency_sites():
        domains[agency] = (*domains.get(agency, ()), domain)
    return domains


def _own_site(agency: str, site_name: str | None, title: str | None, url: str | None) -> bool:
    """True when the page is on the agency's own site: its stories are its wire."""
    host = (urlsplit(url).hostname or "") if url else ""
    return bool(
        (site_name and _SITE[agency].match(site_name.strip()))
        or (title and _TITLE_SUFFIX[agency].search(title.strip()))
        or any(host == d or host.endswith("." + d) for d in _agency_domains().get(agency, ()))
    )


# A portal's provider line ("Reuters India•", "Associated Press•").
_PROVIDER_LINE = {a: re.compile(rf"^(?:{n})(?:\s+[a-z]+)?\s*•$", re.I) for a, n in _NAMES.items()}
# An agency's copyright line: "© 2024 Reuters", "© 2018 Thomson/Reuters. All rights reserved.",
# "Copyright 2024 The Associated Press. All rights reserved.", "© Copyright Thomson Reuters 2024";
# not a picture credit ("© AP Photo/Jane Doe", "© Reuters/Jane Doe").
_COPYRIGHT = {
    a: re.compile(rf"^\W*(?:©|ⓒ|\(c\)|copyright)(?:[^.]{{0,30}}?[\s/])?(?:thomson\s*/\s*)?(?:{n})\b"
                  r"(?!\s*(?:/|photo|images?|foto))", re.I)
    for a, n in _NAMES.items()
}
_COPYRIGHT_MAX_WORDS = 30


def _strong_evidence(agency: str, lines: list[str]) -> int:
    """Count the markers in the body that show the agency wrote the story."""
    count = sum(bool(_PROVIDER_LINE[agency].match(line.strip())) for line in lines[:_BYLINE_LINES])
    for line in lines[:_DATELINE_LINES]:
        dateline = _DATELINE.search(line[:_DATELINE_REACH])
        count += bool(dateline and dateline.group(1) == agency)
    for line in lines[:_BYLINE_LINES]:
        count += bool(len(line.split()) <= _BYLINE_MAX_WORDS and _BYLINE[agency].match(line))
    for line in lines[-_TAIL_LINES:]:
        appended = _APPENDED_CREDIT.search(line)
        count += bool(is_credit_line(line) and _credit_agency(line) == agency)
        count += bool(appended and appended.group(1) == agency)
        count += agency == "Reuters" and bool(_REUTERS_FOOTER.search(line))
        count += agency == "AP" and bool(_AP_NOTICE.search(line) and _MENTION["AP"].search(line))
    return count


def detect_wire(
    text: str,
    *,
    title: str | None = None,
    authors: str | None = None,
    site_name: str | None = None,
    url: str | None = None,
) -> str | None:
    """The agency ('Reuters', 'AP', 'AFP') whose copy this article is, or None.

    Give it the body before captions and credit lines are removed: credit lines are evidence,
    captions are skipped here. With evidence for several agencies, the one with more strong
    markers wins, then the one the body names more often.
    """
    every_line = split_lines(text)
    lines = [line for line in every_line if not _ignored(line)]
    notices = [line.strip() for line in every_line if len(line.split()) <= _COPYRIGHT_MAX_WORDS]
    scores = []
    for agency in _NAMES:
        strong = (
            _strong_evidence(agency, lines)
            + bool(authors and _NAMED[agency].search(authors))
            + _own_site(agency, site_name, title, url)
            + any(_COPYRIGHT[agency].match(line) for line in notices)
        )
        if strong:
            weak = sum(len(_MENTION[agency].findall(line)) for line in lines)
            scores.append((strong, weak, agency))
    return max(scores)[2] if scores else None


_LEADING_DATELINE = re.compile(rf"^.{{0,{_DATELINE_REACH}}}?\((?:Reuters|AP|AFP)\)\s*[-–—]\s*")
_PERSON_BYLINE = re.compile(
    r"^(?:By|BY)\s+[A-Z][\w.'’\-]*(?:\s+[A-Z][\w.'’\-]*){0,3}"
    r"(?:(?:,|\s+and)\s+[A-Z][\w.'’\-]*(?:\s+[A-Z][\w.'’\-]*){0,3})*"
    r"(?:,?\s+(?i:(?:the\s+)?associated\s+press|reuters|afp))?$"
)


def _is_marker_line(line: str) -> bool:
    """True for a byline, a bare credit, or an agency footer or notice."""
    return bool(
        is_credit_line(line)
        or _PERSON_BYLINE.match(line)
        or (len(line.split()) <= _BYLINE_MAX_WORDS and any(b.match(line) for b in _BYLINE.values()))
        or _REUTERS_FOOTER.search(line)
        or _AP_NOTICE.search(line)
        or _CONTRIBUTED.search(line)
    )


def strip_wire_markers(text: str) -> str:
    """The body without agency datelines, bylines, credit lines and footers.

    For hashing and comparing bodies: otherwise the shared boilerplate makes every Reuters
    story look a little alike, and copies that dropped the dateline look a little different.
    """
    paragraphs = []
    for line in split_lines(text):
        if not _is_marker_line(line):
            line = _APPENDED_CREDIT.sub("", _LEADING_DATELINE.sub("", line, count=1))
            if line:
                paragraphs.append(line)
    return "\n\n".join(paragraphs)
