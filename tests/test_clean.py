"""Line-level cleaning rules: captions, credits, site prompts, split paragraphs, headline, repeats."""
from __future__ import annotations

import pytest

from tasks.clean import (
    clean_lines,
    cut_trailing_teasers,
    drop_headline,
    drop_repeats,
    is_boilerplate,
    is_caption,
    is_credit_line,
    join_broken_paragraphs,
    split_lines,
)

PARAGRAPH = "The ministry said on Thursday that the first round of talks would be held in Seoul."


@pytest.mark.parametrize(
    "line",
    [
        "FILE PHOTO: South Korean and US soldiers take part in a joint drill in Yeoju, Oct 14, 2025. REUTERS/Kim Hong-Ji",
        "PHOTO: REUTERS",
        "PHOTO: AFP",
        "Photo: Supplied",
        "Image: eThekwini Municipality / Facebook",
        "Pictured right, is reader Nicole Bresler, speaking to a novelist at the book fair",
        "Protesters gather outside parliament. REUTERS/Jane Doe/File Photo",
        "Firefighters at the scene on Monday. (AP Photo/John Smith)",
        "The president arrives in Paris (Photo by Ludovic Marin / AFP via Getty Images)",
        "Visitors queue outside the museum. PHOTO: AFP",
        "FILE - In this July 7, 2017, file photo, two leaders meet in Hamburg.",
        "Two leaders meet in Hamburg. (Jorge Silva/Pool Photo via AP, File)",
    ],
)
def test_captions(line):
    assert is_caption(line)


@pytest.mark.parametrize(
    "line",
    [
        PARAGRAPH,
        "A Reuters/Ipsos poll published on Monday showed support falling to 38 per cent.",
        "She posted a photo by the lake on Sunday.",
        "The agency's photographers filed pictures from the border all week.",
        "The minister declined to comment (he had not seen the photo).",
        "File the paperwork before Monday, officials said.",
    ],
)
def test_not_captions(line):
    assert not is_caption(line)


@pytest.mark.parametrize("line", ["REUTERS", "- Reuters", "— AFP", "(AP)", "AFP", "The Associated Press"])
def test_credit_lines(line):
    assert is_credit_line(line)


@pytest.mark.parametrize("line", ["Reuters reported the deal on Monday.", "APEC leaders meet", PARAGRAPH])
def test_not_credit_lines(line):
    assert not is_credit_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "Sign up now: Get ST's newsletters delivered to your inbox",
        "Follow topic: South Korea",
        "See more on South Korea United States Defence",
        "Read more: North Korea fires missile into sea",
        "READ MORE:",
        "Join our commenting forum",
        "Comments",
        "Copyright 2025 The Associated Press. All rights reserved.",
        "Follow Metro.co.uk on Twitter and Facebook for the latest news updates.",
        "Advertisement",
        "Most read in Football",
    ],
)
def test_site_prompts(line):
    assert is_boilerplate(line)


@pytest.mark.parametrize(
    "line",
    [
        PARAGRAPH,
        "Popular support for the plan has grown since the summer, a survey showed.",
        "Read the full statement, officials urged, before judging the plan.",
        "Sign up " + "and wait for months, residents said, because the list is long " * 5 + ".",
    ],
)
def test_not_site_prompts(line):
    assert not is_boilerplate(line)


def test_split_lines_collapses_whitespace_and_drops_empty_and_wordless_lines():
    assert split_lines("  One  line \n\n___\n  Two\tlines  \n") == ["One line", "Two lines"]


def test_joins_paragraph_cut_around_a_link():
    lines = [
        "Washington has previously said that",
        "defence cost-sharing",
        "would be part of a wider package.",
        "Next paragraph.",
    ]
    assert join_broken_paragraphs(lines) == [
        "Washington has previously said that defence cost-sharing would be part of a wider package.",
        "Next paragraph.",
    ]


def test_joins_after_honorific_and_before_punctuation():
    assert join_broken_paragraphs(["The talks will be led by Mr", "Park Min-jun", ", a senior official."]) == [
        "The talks will be led by Mr Park Min-jun, a senior official."
    ]


@pytest.mark.parametrize(
    "lines",
    [
        ["Football", "Oct. 6, 1923: First football game."],  # heading, then a paragraph
        ["He said:", "We will not back down."],
        ["- first item", "second line in lower case"],  # list items stay apart
        ["The new phone", "iPhone sales rose 4% in the quarter."],  # a name in lower case
        [PARAGRAPH, "and then it ended."],  # a finished sentence is not continued
    ],
)
def test_keeps_separate_lines_apart(lines):
    assert join_broken_paragraphs(lines) == lines


def test_drops_headline_and_deck():
    lines = [
        "Australian teenager becomes sixth to die in Laos ‘methanol poisoning’ as police detain hostel bosses",
        "Australian backpacker Holly Bowles, 19, became the sixth traveller to die",
        PARAGRAPH,
    ]
    title = "Australian teenager becomes sixth to die in suspected Laos methanol poisoning"
    assert drop_headline(lines, title, None) == [PARAGRAPH]


def test_keeps_lead_paragraph_that_is_also_the_description():
    lead = "For nearly two decades, journalists and police have pried into the world of the financier."
    assert drop_headline([lead, PARAGRAPH], "Documents released, but questions remain", lead) == [lead, PARAGRAPH]


def test_keeps_lead_paragraph_that_restates_the_headline():
    lead = "The Federal Government is on track to hit its 2030 emissions reduction target, modelling shows."
    assert drop_headline([lead], "Labor on track to hit 2030 climate change target", None) == [lead]


def test_drops_repeated_lines_keeping_the_first():
    caption = "Currency collectors are on the hunt for some rare dollar bills"
    paragraph = caption + "."
    assert drop_repeats([paragraph, "Other text.", caption]) == [paragraph, "Other text."]


def test_cuts_teasers_after_more_from_heading_in_second_half():
    body = [PARAGRAPH] * 4
    assert cut_trailing_teasers(body + ["More from The Nation", "Another story title"]) == body


def test_only_drops_more_from_heading_in_first_half():
    body = ["Intro.", "More from our coverage", PARAGRAPH, PARAGRAPH, PARAGRAPH]
    assert cut_trailing_teasers(body) == ["Intro.", PARAGRAPH, PARAGRAPH, PARAGRAPH]


def test_clean_lines_end_to_end():
    lines = [
        "South Korea, US to start talks on troop costs",
        "SEOUL, Nov 27 (Reuters) - South Korea and the United States will open talks, the ministry said.",
        "Sign up now: Get ST's newsletters delivered to your inbox",
        "Mr Park said that",
        "defence cost-sharing would be discussed.",
        "FILE PHOTO: Soldiers at a drill, Oct 14, 2025. REUTERS/Kim Hong-Ji",
        "REUTERS",
        "Follow topic:",
        "See more on",
    ]
    assert clean_lines(lines, title="South Korea, US to start talks on troop costs") == [
        "SEOUL, Nov 27 (Reuters) - South Korea and the United States will open talks, the ministry said.",
        "Mr Park said that defence cost-sharing would be discussed.",
    ]
