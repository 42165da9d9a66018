"""Line-level cleaning rules: captions, credits, site prompts, split paragraphs, headline, repeats."""
from __future__ import annotations

import pytest

from tasks.clean import (
    clean_lines,
    cut_trailing_teasers,
    drop_headline,
    drop_repeats,
    is_boilerplate,
    is_byline,
    is_caption,
    is_credit_line,
    is_furniture,
    is_link_line,
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


def test_drops_headline_and_keeps_the_deck_under_it():
    deck = "Australian backpacker Holly Bowles, 19, became the sixth traveller to die"
    lines = [
        "Australian teenager becomes sixth to die in Laos ‘methanol poisoning’ as police detain hostel bosses",
        deck,
        PARAGRAPH,
    ]
    title = "Australian teenager becomes sixth to die in suspected Laos methanol poisoning"
    assert drop_headline(lines, title) == [deck, PARAGRAPH]


def test_keeps_lead_paragraph_that_restates_the_headline():
    lead = "The Federal Government is on track to hit its 2030 emissions reduction target, modelling shows."
    assert drop_headline([lead], "Labor on track to hit 2030 climate change target") == [lead]


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


# Site prompts of every kind the corpora show, in their languages (written for these tests).
@pytest.mark.parametrize(
    "line",
    [
        # newsletter and sign-up
        "Get our morning briefing: sign up for the Daily Digest newsletter and never miss a story.",
        "Newsletter abonnieren: Der Morgen-Überblick kommt jeden Tag um sechs Uhr in Ihr Postfach.",
        "Suscríbete a nuestro boletín y recibe las noticias más importantes cada mañana.",
        "Abonnez-vous à notre infolettre pour recevoir l'essentiel de l'actualité.",
        "Iscriviti alla newsletter per ricevere ogni giorno le notizie più lette.",
        "Newsletter: Wirtschaft kompakt",
        "Suscríbete",
        "Melden Sie sich jetzt für unseren Newsletter an.",
        # subscription and paywall notices
        "Il vous reste 62% de cet article à lire. La suite est réservée aux abonnés.",
        "Este contenido es exclusivo para suscriptores.",
        "この記事は会員限定です。",
        "Tu suscripción se está usando en otro dispositivo.",
        # standards and trust principles
        "Our Standards: The Thomson Reuters Trust Principles.",
        "The Thomson Reuters Trust Principles.",
        "Read our editorial guidelines.",
        # share, comment and app prompts
        "Share this article on social media",
        "Artikel teilen",
        "Kommentar abgeben",
        "Du musst dich anmelden, um einen Kommentar zu schreiben.",
        "What do you think? Leave your comments below.",
        "Get the app: breaking news on your phone, for Android and iOS.",
        "Folgst du uns schon auf Whatsapp?",
        "Hier geht es zur neuen App – für Android und iOS.",
        # support, error reports, consent, copyright and read-also lines
        "Hat Ihnen dieser Artikel gefallen? Dann unterstützen Sie uns bitte mit einer Spende.",
        "Fehler gefunden? Jetzt melden.",
        "Ich bin damit einverstanden, dass mir externe Inhalte angezeigt werden. Mehr dazu in der Datenschutzerklärung, die Sie jederzeit lesen können.",
        "<Copyright ⓒ Daily Example. All rights reserved.>",
        "Alle Rechte vorbehalten.",
        "Lesen Sie auch: Die Stadt plant neue Radwege",
        "À lire aussi Les prix du gaz repartent à la hausse",
        "Les også: Kommunen kutter i budsjettet",
        "関連記事",
    ],
)
def test_prompts_in_any_language_are_boilerplate(line):
    assert is_boilerplate(line)


@pytest.mark.parametrize(
    "line",
    [
        "Netflix verliert 200.000 Abonnenten, wie das Unternehmen am Dienstag mitteilte.",
        "Sie kommentierte den Vorfall am Montag nicht.",
        "Sie teilen die Sorge der Anwohner über den Verkehr.",
        "Comment réagissent les pêcheurs ?",
        "Finanzielle Unterstützung für Opfer",
        '"You can comment on the plan until Friday," the council said in a statement.',
        "The app had 3 million users by the end of the year, the company said.",
        "El Gobierno aprobó la ley con el apoyo de la oposición.",
    ],
)
def test_story_lines_mentioning_those_words_are_kept(line):
    assert not is_boilerplate(line)


LINKS = frozenset({"Council approves new bus routes", "Storm closes the harbour", "Sport", "Mayor"})


@pytest.mark.parametrize(
    "line",
    ["- Council approves new bus routes", "Storm closes the harbour", "More: Storm closes the harbour | Sport news"],
)
def test_lines_made_of_links_to_other_pages_are_link_lines(line):
    assert is_link_line(line, LINKS)


@pytest.mark.parametrize(
    "line",
    [
        "The Mayor said the council approves new bus routes every spring, after a consultation.",
        "Sport",  # a word or two: a sub-heading linking to a topic page
        "Council approves new bus routes.",  # a sentence standing alone is the writer's
    ],
)
def test_story_lines_with_links_are_kept(line):
    assert not is_link_line(line, LINKS)


@pytest.mark.parametrize(
    "line",
    [
        "Quelle: dpa", "(Quelle: APA/sda)", "(dmk)", "SDA/sep", "Jane Doe/Getty Images", "Lesedauer: 4 Minuten",
        "- 3 Minuten Lesezeit", "Freitag, 28.04.2023, 19:25", "Stand: 22.04.2024, 06:00 Uhr", "10.11.2025 17:59",
        "Updated 15.59 | Published 14.14",
    ],
)
def test_source_credit_and_date_lines_are_furniture(line):
    assert is_furniture(line)


@pytest.mark.parametrize(
    "line",
    [PARAGRAPH, "Bayern 3:1 Dortmund", "Sources say the deal is close.", "In 2023, 1,200 people moved to the town."],
)
def test_story_lines_are_not_furniture(line):
    assert not is_furniture(line)


@pytest.mark.parametrize("line", ["Jane Doe", "Von Jane Doe", "Por Jane Doe y John Roe", "By JANE DOE"])
def test_lines_naming_the_authors_are_bylines(line):
    assert is_byline(line, "Jane Doe; John Roe")


def test_a_sentence_about_the_author_is_no_byline():
    assert not is_byline("Jane Doe said the plan would fail.", "Jane Doe")
