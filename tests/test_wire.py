"""Wire-copy markers: which count as evidence, which do not, and stripping them for hashing."""
from __future__ import annotations

import pytest

from tasks.wire import detect_wire, strip_wire_markers

BODY = [
    "The council approved the plan by five votes to two after a long debate.",
    "Residents had asked for a delay of at least a year, citing the cost to households.",
    "The first changes take effect in January.",
]


def text(*lines: str, body: list[str] = BODY) -> str:
    """Paragraphs as extraction hands them over: one blank line apart."""
    head = [line for line in lines if not line.startswith("@end ")]
    tail = [line.removeprefix("@end ") for line in lines if line.startswith("@end ")]
    return "\n\n".join(head + body + tail)


@pytest.mark.parametrize(
    ("article", "expected"),
    [
        (text("SEOUL, Nov 27 (Reuters) - South Korea and the US will open talks."), "Reuters"),
        (text("BEIRUT/THE HAGUE, March 7 (Reuters) - An Israeli tank crew fired two shells."), "Reuters"),
        (text("@end REUTERS"), "Reuters"),
        (text("@end - Reuters"), "Reuters"),
        (text("@end Reporting by Josh Smith; Editing by Ed Davies"), "Reuters"),
        (text("@end (Writing by Jane Roe; editing by John Doe)"), "Reuters"),
        (text("@end Talks resume on Monday. - Reuters"), "Reuters"),
        (text("WASHINGTON (AP) — The Senate passed the bill on Tuesday."), "AP"),
        (text("By JOSH BOAK Associated Press"), "AP"),
        (text("The Associated Press"), "AP"),
        (text("Jonathan Lemire and Vladimir Isachenkov, Associated Press"), "AP"),
        (text("By ROBERT BURNS, AP National Security Writer"), "AP"),
        (text("By GEOFF MULVIHILL - Associated Press - Saturday, July 14, 2018"), "AP"),
        (text("Associated Press Monday, July 16, 2018"), "AP"),
        (
            text(
                "@end Copyright 2025 The Associated Press. All rights reserved. "
                "This material may not be published, broadcast, rewritten or redistributed."
            ),
            "AP",
        ),
        (text("PARIS (AFP) - The Louvre will close its oldest wing."), "AFP"),
        (text("By Agence France-Presse"), "AFP"),
        (text("@end AFP"), "AFP"),
    ],
)
def test_markers_in_the_body(article, expected):
    assert detect_wire(article) == expected


@pytest.mark.parametrize(
    "article",
    [
        text(),
        # captions credit a picture, not the story
        text("FILE PHOTO: Soldiers at a joint drill in Yeoju, South Korea, Oct 14, 2025. REUTERS/Kim Hong-Ji"),
        text("PHOTO: AFP", "@end PHOTO: REUTERS"),
        text("@end Firefighters at the scene. (AP Photo/John Smith)"),
        text("FILE - In this July 7, 2017, file photo, two leaders meet. (Jorge Silva/Pool Photo via AP, File)"),
        text("Carlos Barria / Reuters", "Timo Jaakonaho/AP"),  # photographer credits
        text("Trump tells AP"),  # a headline naming the agency is no byline
        # partly wire-sourced, not a copy
        text("@end Associated Press writers Tom Reed in Boise and Ana Ruiz in Denver contributed to this report."),
        text("@end The Associated Press contributed."),
        # an outlet's own story that quotes or cites the agencies
        text("A spokesman told Reuters the talks would resume.", "@end AFP reported the same figures, as did AFP."),
        text("@end News organisations, including The Associated Press, covered the trip."),
        # the notice without the agency's name is another publisher's
        text("@end This material may not be published, broadcast, rewritten, or redistributed. ©2025 Other News"),
        # a dateline-like pattern deep inside a paragraph is not a dateline
        text("x " * 80 + "(Reuters) - quoted"),
    ],
)
def test_no_wire_copy(article):
    assert detect_wire(article) is None


def test_authors_site_and_url():
    assert detect_wire(text(), authors="Reuters Staff") == "Reuters"
    assert detect_wire(text(), authors="Jane Roe; The Associated Press") == "AP"
    assert detect_wire(text(), authors="AFP") == "AFP"
    assert detect_wire(text(), site_name="Reuters") == "Reuters"
    assert detect_wire(text(), site_name="AP News") == "AP"
    assert detect_wire(text(), url="https://apnews.com/article/x-123") == "AP"
    assert detect_wire(text(), url="https://www.reuters.com/world/x/") == "Reuters"
    assert detect_wire(text(), title="Council approves plan | AP News") == "AP"
    assert detect_wire(text(), authors="Jane Roe", site_name="The Daily", url="https://daily.example/a") is None


def test_navigation_after_the_credit_does_not_hide_it():
    article = text("@end REUTERS", "@end Follow topic:", "@end See more on", "@end Sign up now", "@end Read more: X")
    assert detect_wire(article) == "Reuters"


def test_story_evidence_beats_photo_credits_of_another_agency():
    article = text(
        "WASHINGTON (AP) — The Senate passed the bill.",
        "PHOTO: AFP",
        "@end Lawmakers leave the chamber. REUTERS/Jane Doe",
    )
    assert detect_wire(article) == "AP"


def test_more_strong_markers_win_over_fewer():
    article = text("PARIS (AFP) - The talks began.", "@end - Reuters", "@end Reporting by Jane Roe; Editing by Ed Doe")
    assert detect_wire(article) == "Reuters"


def test_works_on_single_newline_text():
    assert detect_wire("SEOUL, Nov 27 (Reuters) - Talks open.\nSecond paragraph.") == "Reuters"


def test_strip_wire_markers():
    article = "\n\n".join(
        [
            "By JOSH BOAK Associated Press",
            "WASHINGTON (AP) — The Senate passed the bill on Tuesday.",
            "By the end of the year, the bill will be law.",
            "The vote was 52-48.",
            "Associated Press writer Jane Roe contributed to this report.",
            "Copyright 2025 The Associated Press. All rights reserved. "
            "This material may not be published, broadcast, rewritten or redistributed.",
        ]
    )
    assert strip_wire_markers(article) == (
        "The Senate passed the bill on Tuesday.\n\nBy the end of the year, the bill will be law.\n\nThe vote was 52-48."
    )


def test_stripped_copies_of_one_story_are_equal():
    reuters = "SEOUL, Nov 27 (Reuters) - Talks open.\n\nThey end on Friday. - Reuters\n\n(Reporting by Jane Roe; Editing by Ed Doe)"
    republished = "Talks open.\n\nThey end on Friday.\n\nREUTERS"
    assert strip_wire_markers(reuters) == strip_wire_markers(republished) == "Talks open.\n\nThey end on Friday."


def test_strip_keeps_bodies_without_markers():
    assert strip_wire_markers("\n\n".join(BODY)) == "\n\n".join(BODY)
    assert strip_wire_markers("PARIS (AFP) - Louvre to close a wing.\n\n- AFP") == "Louvre to close a wing."


def test_a_portal_provider_line_and_reuters_copyright_notice_are_wire_evidence():
    assert detect_wire("Spies accused before summit\nReuters India•\nWASHINGTON - Twelve officers were charged.") == "Reuters"
    assert detect_wire("Leaders meet\nThe summit opened on Monday.\n© 2018 Thomson/Reuters. All rights reserved.") == "Reuters"
    assert detect_wire("Flood warning\nAssociated Press•\nRivers rose across the state on Tuesday.") == "AP"
    assert detect_wire("Our own story.\nFormer ambassador Adam Thomson said Reuters had asked him.") is None


@pytest.mark.parametrize(
    ("article", "expected"),
    [
        (text("By Jane Doe | Reuters"), "Reuters"),
        (text("@end (Reporting by Jane Doe in Lisbon; Additional reporting by Kim Lee; Editing by John Roe)"), "Reuters"),
        (text("@end © 2024 Reuters"), "Reuters"),
        (text("@end © Copyright Thomson Reuters 2024"), "Reuters"),
        (text("@end © 2018 Thomson/Reuters. All rights reserved."), "Reuters"),
        (text("@end Copyright 2024 The Associated Press. All rights reserved."), "AP"),
        (text("@end Associated Press"), "AP"),
        (text("@end (c) 2025 AFP"), "AFP"),
    ],
)
def test_each_agency_marker_attributes_the_copy(article, expected):
    assert detect_wire(article) == expected


@pytest.mark.parametrize("credit", ["© AP Photo/Jane Doe", "© Reuters/Jane Doe", "© 2024 Apple Inc. All rights reserved."])
def test_picture_credits_and_other_copyrights_are_no_wire_marker(credit):
    assert detect_wire(text(f"@end {credit}")) is None


def test_closing_credit_counts_behind_prompts_and_dates_in_other_languages():
    article = text(
        "@end Reporting by Jane Doe; Editing by John Roe",
        "@end Newsletter abonnieren: Das Wichtigste des Tages in Ihrem Postfach.",
        "@end Suscríbete a nuestro boletín.",
        "@end Stand: 22.04.2024, 06:00 Uhr",
        "@end Fehler gefunden? Jetzt melden.",
    )
    assert detect_wire(article) == "Reuters"
