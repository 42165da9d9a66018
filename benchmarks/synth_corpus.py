"""A labelled syndication corpus: wire stories, the copies outlets make of them, and hard negatives.

    .venv/bin/python -m benchmarks.synth_corpus /work/shared/corpus/fundus-en-dev out.jsonl [--seed 7]

Wire stories are the real, hand-checked bodies of the fundus corpus (long bodies are cut into
stories of at most 24 paragraphs). Each story is filed by an agency (AP, Reuters, AFP) with its
dateline and credits, in up to three versions (an earlier, shorter one; the main one; a later one
with added paragraphs and, sometimes, a new lead), sometimes on the agency's own site. Outlets
copy it with their house style and edits:

- new headline (title field, and often a headline line left at the top of the text)
- the outlet's template lines (header, footer: some match common furniture patterns, some don't),
  newsletter / "Read more" lines, photo captions with credits (file photos reused across stories)
- "Mr"/"Ms" honorifics before surnames, British spelling, paragraphs split around a link,
  trailing agency credit, dateline kept, shortened or dropped
- bottom trimming, teasers (the opening paragraphs only), earlier / later versions (sometimes
  both at one outlet)

Hard negatives, each its own story: a follow-up wire story reusing two or three background
paragraphs of the original among new text (with its own copies); another outlet's own story on
the same event quoting the same sentences; and each outlet's own short stories, which share its
template with everything else it publishes. New text comes from a word-bigram Markov chain over
the real bodies, so it shares vocabulary but not passages with them.

`scale_corpus` makes synthetic wire stories and copies in bulk for the cost benchmark.
"""
from __future__ import annotations

import argparse
import json
import random
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

MAX_STORY_PARAS = 24
AGENCIES = {
    "AP": ("apnews.com", "(AP) —"),
    "Reuters": ("reuters.com", "(Reuters) -"),
    "AFP": ("afp.com", "(AFP) -"),
}
CITIES = ["WASHINGTON", "LONDON", "PARIS", "NEW YORK", "TOKYO", "NAIROBI", "SYDNEY", "BRUSSELS",
          "JOHANNESBURG", "NEW DELHI", "OTTAWA", "BERLIN", "SEOUL", "MEXICO CITY", "CAIRO"]
FIRST = ["Anna", "James", "Maria", "David", "Sara", "Peter", "Laura", "Michael", "Nadia", "Tom", "Grace", "Ken"]
LAST = ["Smith", "Okafor", "Novak", "Tanaka", "Garcia", "Muller", "Haddad", "Kowalski", "Nguyen", "Brown"]
# US -> UK edits an outlet's copy desk makes, written from style guides rather than from
# tasks/dedup.py's folding table, so that the benchmark measures the normaliser, not its own mirror:
# many of these the normaliser does not know (they cost the copy a few shingles, as in real news).
BRITISH = {
    "color": "colour", "colors": "colours", "honor": "honour", "favor": "favour", "labor": "labour",
    "neighbor": "neighbour", "neighbors": "neighbours", "behavior": "behaviour", "harbor": "harbour",
    "center": "centre", "centers": "centres", "theater": "theatre", "meter": "metre", "meters": "metres",
    "defense": "defence", "traveled": "travelled", "traveling": "travelling", "canceled": "cancelled",
    "labeled": "labelled", "modeling": "modelling", "fueled": "fuelled", "fulfill": "fulfil",
    "enroll": "enrol", "skillful": "skilful", "program": "programme", "gray": "grey",
    "analyze": "analyse", "analyzed": "analysed", "paralyzed": "paralysed", "aluminum": "aluminium",
    "judgment": "judgement", "skeptical": "sceptical", "aging": "ageing", "percent": "per cent",
    "toward": "towards", "airplane": "aeroplane", "airplanes": "aeroplanes", "mold": "mould",
    "sulfur": "sulphur", "cozy": "cosy", "mustache": "moustache", "artifact": "artefact",
    "specialty": "speciality", "pajamas": "pyjamas", "maneuver": "manoeuvre", "estrogen": "oestrogen",
    "pediatric": "paediatric", "anemia": "anaemia", "fetus": "foetus", "diarrhea": "diarrhoea",
    "license": "licence", "practicing": "practising", "jewelry": "jewellery", "tire": "tyre",
    "curb": "kerb", "check": "cheque", "draft": "draught", "plow": "plough", "math": "maths",
}
_IZE = re.compile(r"\b([a-z]{3,})iz(e|es|ed|ing|ation|ations)\b")
_HONORIFIC_SITE = re.compile(r"\b([A-Z][a-z]{2,})(?= (?:said|says|told|added|wrote)\b)")
_NOT_SURNAME = {"The", "She", "They", "This", "That", "Police", "Officials", "Experts", "Critics", "Trump",
                "Biden", "Harris", "Putin", "Officers", "Residents", "Authorities", "Analysts", "It"}
TEMPLATE_LINES = [  # filled with the outlet's name and domain; a few per outlet
    "{name} is your trusted source for local news, weather and sports across the region.",
    "Get the {name} app for breaking news alerts and exclusive stories from our newsroom.",
    "Sign up for the {name} morning briefing, delivered to your inbox every weekday.",
    "Our journalism depends on readers like you. Support independent reporting at {name} today.",
    "Got a story tip? Email our newsroom at tips@{domain} or call us any time, day or night.",
    "Copyright {name} Media Group. All rights reserved. This content may not be reproduced without permission.",
    "Follow {name} on Facebook and Twitter for the latest updates from our reporters.",
    "Stories like this are made possible by {name} members. Join them and keep local journalism strong.",
]
PICTURE_CREDITS = ["(AP Photo/{who})", "Photo: {who}/Reuters", "{who}/AFP via Getty Images", "(Photo by {who})"]


@dataclass
class Article:
    article_id: str
    url: str
    outlet: str
    title: str
    published_at: datetime
    text: str
    story: str  # gold label
    kind: str  # what this copy is: wire, full, trimmed, teaser, earlier, later, followup, same-event, own
    wire: str | None


@dataclass
class Outlet:
    name: str
    domain: str
    template_head: list[str]
    template_foot: list[str]
    british: bool
    honorifics: bool


class Markov:
    """Word-bigram chain over real bodies: new text with news vocabulary but no shared passages."""

    def __init__(self, paragraphs: list[str], rng: random.Random) -> None:
        self.rng = rng
        self.next: dict[str, list[str]] = {}
        self.starts: list[str] = []
        for p in paragraphs:
            words = p.split()
            for i, w in enumerate(words):
                if i == 0 or words[i - 1][-1] in ".!?":
                    self.starts.append(w)
                if i + 1 < len(words):
                    self.next.setdefault(w, []).append(words[i + 1])

    def sentence(self, max_words: int = 35) -> str:
        w = self.rng.choice(self.starts)
        out = [w]
        while len(out) < max_words and w[-1] not in ".!?":
            options = self.next.get(w)
            if not options:
                break
            w = options[int(self.rng.random() * len(options))]
            out.append(w)
        text = " ".join(out)
        return text if text[-1] in ".!?\"”" else text + "."

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(1, 3)))

    def title(self) -> str:
        return " ".join(self.sentence(12).rstrip(".!?").split()[:self.rng.randint(6, 11)])


def load_bodies(fundus_dir: Path) -> list[tuple[str, list[str]]]:
    """(title, paragraphs) per story: the real bodies, long ones cut into several stories."""
    stories = []
    for line in (fundus_dir / "truth.jsonl").read_text().splitlines():
        page = json.loads(line)
        paras = [b["text"].strip() for b in page["body"] if b["text"].strip()]
        parts = -(-len(paras) // MAX_STORY_PARAS)
        for part in range(parts):
            chunk = paras[part * len(paras) // parts:(part + 1) * len(paras) // parts]
            if sum(len(p.split()) for p in chunk) >= 150:
                stories.append((page["title"] if part == 0 else f"{page['title']} ({part + 1})", chunk))
    return stories


def _english(paragraph: str) -> bool:
    words = paragraph.lower().split()
    common = {"the", "and", "of", "to", "a", "in", "is", "that", "for", "on"}
    return sum(w in common for w in words) >= 0.12 * len(words)


class Builder:
    """Turns wire stories into the articles outlets publish, with labels."""

    def __init__(self, rng: random.Random, markov: Markov, n_outlets: int = 16) -> None:
        self.rng, self.markov = rng, markov
        self.articles: list[Article] = []
        self.file_photos = [self._caption() for _ in range(6)]  # reused across stories, as agencies do
        names = [f"{a} {n}" for a in ("Daily", "Evening", "Morning", "Weekly", "Valley", "Coastal")
                 for n in ("Courier", "Herald", "Post", "Times", "Star", "Ledger", "Gazette", "Tribune")]
        self.outlets = [self._outlet(i, name) for i, name in enumerate(rng.sample(names, n_outlets))]
        self.seq = 0

    def _outlet(self, i: int, name: str) -> Outlet:
        domain = f"{name.lower().replace(' ', '')}.example.com"
        lines = [t.format(name=name, domain=domain) for t in self.rng.sample(TEMPLATE_LINES, 3)]
        return Outlet(name, domain, lines[:1], lines[1:], british=i % 3 == 0, honorifics=i % 4 == 0)

    def _who(self) -> str:
        return f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"

    def _caption(self) -> str:
        credit = self.rng.choice(PICTURE_CREDITS).format(who=self._who())
        return f"{self.markov.sentence(25)} {credit}"

    def _add(self, outlet: str, url: str, title: str, t: datetime, paras: list[str], story: str,
             kind: str, wire: str | None) -> None:
        self.seq += 1
        text = "\n\n".join(paras)
        self.articles.append(Article(f"a{self.seq:06d}", url, outlet, title, t, text, story, kind, wire))

    # --- the agency's versions -------------------------------------------------------------

    def wire_versions(self, paras: list[str], agency: str) -> list[list[str]]:
        """Earlier, main and later version of a story as the agency files it."""
        city = self.rng.choice(CITIES)
        body = [re.sub(r"^[A-Z][A-Z .,']+\([A-Z]+\) [—-] ", "", p) for p in paras]
        main = [f"{city} {AGENCIES[agency][1]} {body[0]}"] + body[1:]
        earlier = main[:max(2, int(len(main) * self.rng.uniform(0.5, 0.7)))]
        later = main[:3] + [self.markov.paragraph() for _ in range(2)] + main[3:] + [self.markov.paragraph()]
        if self.rng.random() < 0.5:  # a write-thru: new lead, the old one demoted or dropped
            new_lead = f"{city} {AGENCIES[agency][1]} {self.markov.paragraph()}"
            later = [new_lead] + ([body[0]] if self.rng.random() < 0.5 else []) + later[1:]
        return [earlier, main, later]

    # --- what an outlet does to a text -------------------------------------------------------

    def house_style(self, paras: list[str], outlet: Outlet, title: str, agency: str | None) -> list[str]:
        rng = self.rng
        out = list(paras)
        if out and agency:
            r = rng.random()
            if r < 0.25:  # dateline dropped
                out[0] = re.sub(r"^[^—]*?\((?:AP|Reuters|AFP)\) [—-] ", "", out[0])
            elif r < 0.45:  # agency tag dropped from the dateline
                out[0] = re.sub(r" \((?:AP|Reuters|AFP)\) ([—-])", r" \1", out[0])
        if outlet.honorifics:
            out = [_HONORIFIC_SITE.sub(lambda m: m.group(1) if m.group(1) in _NOT_SURNAME
                                       else f"{rng.choice(['Mr', 'Ms'])} {m.group(1)}", p) for p in out]
        if outlet.british:
            out = [_britishise(p) for p in out]
        if rng.random() < 0.3 and len(out) > 2:  # a paragraph split around a link
            i = rng.randrange(1, len(out))
            words = out[i].split()
            if len(words) >= 16:
                cut = rng.randrange(6, len(words) - 6)
                out[i:i + 1] = [" ".join(words[:cut]), " ".join(words[cut:])]
        if rng.random() < 0.4:
            out.insert(rng.randint(1, max(1, len(out) - 1)), f"Read more: {self.markov.title()}")
        if rng.random() < 0.5:
            out.insert(rng.randint(0, min(2, len(out))), rng.choice(self.file_photos + [self._caption()]))
        if agency and rng.random() < 0.5:
            out.append(rng.choice({"AP": ["— Associated Press",
                                          "The Associated Press contributed to this report."],
                                   "Reuters": ["(Reporting by Anna Smith; Editing by Tom Brown)", "— Reuters"],
                                   "AFP": ["— AFP", "With AFP"]}[agency]))
        head = [title] if rng.random() < 0.5 else []
        return outlet.template_head + head + out + outlet.template_foot

    def copy(self, paras: list[str], story: str, kind: str, agency: str | None, t: datetime,
             outlet: Outlet) -> None:
        title = self.markov.title()
        self._add(outlet.name, f"https://{outlet.domain}/news/{self.seq + 1}", title, t,
                  self.house_style(paras, outlet, title, agency), story, kind, agency)

    # --- stories and negatives ---------------------------------------------------------------

    def wire_story(self, key: str, title: str, paras: list[str], t0: datetime, copies: int) -> None:
        rng = self.rng
        agency = rng.choice(list(AGENCIES))
        versions = self.wire_versions(paras, agency)
        if rng.random() < 0.5:  # the agency's own page
            domain = AGENCIES[agency][0]
            self._add(domain, f"https://{domain}/article/{key}", title, t0, versions[1], key, "wire", agency)
        for outlet in rng.sample(self.outlets, copies):
            kind = rng.choices(["full", "trimmed", "teaser", "earlier", "later"], [4, 3, 2, 2, 2])[0]
            if kind == "earlier":
                text, t = versions[0], t0 - timedelta(hours=rng.uniform(1, 3))
            elif kind == "later":
                text, t = versions[2], t0 + timedelta(hours=rng.uniform(3, 9))
            else:
                text, t = versions[1], t0 + timedelta(minutes=rng.uniform(5, 240))
            if kind == "trimmed":
                text = text[:max(3, int(len(text) * rng.uniform(0.35, 0.8)))]
            elif kind == "teaser":
                n = 1
                while n < len(text) and sum(len(p.split()) for p in text[:n] if len(p.split()) >= 12) < 45:
                    n += 1
                text = text[:n]
            self.copy(text, key, kind, agency, t, outlet)
            if kind != "later" and rng.random() < 0.15:  # the outlet runs the update as a new page too
                self.copy(versions[2], key, "later", agency, t0 + timedelta(hours=rng.uniform(3, 9)), outlet)
        if len(versions[1]) >= 8 and rng.random() < 0.6:  # background is a minor part of the story
            self.follow_up(key, versions[1], agency, t0 + timedelta(days=1))
        if rng.random() < 0.5:
            self.same_event(key, versions[1], t0 + timedelta(hours=rng.uniform(0, 6)))

    def follow_up(self, key: str, paras: list[str], agency: str, t: datetime) -> None:
        """Next day's story by the same agency: new text around 2-3 background paragraphs."""
        rng = self.rng
        k = rng.randint(2, 3)
        lo = max(1, len(paras) // 2)
        start = rng.randrange(lo, max(lo + 1, len(paras) - k + 1))
        background = paras[start:start + k]
        new = [self.markov.paragraph() for _ in range(rng.randint(5, 9))]
        city = rng.choice(CITIES)
        at = rng.randint(2, 4)
        text = [f"{city} {AGENCIES[agency][1]} {new[0]}"] + new[1:at] + background + new[at:]
        for i, outlet in enumerate(rng.sample(self.outlets, rng.randint(1, 3))):
            self.copy(text, f"{key}-followup", "followup", agency, t + timedelta(minutes=20 * i), outlet)

    def same_event(self, key: str, paras: list[str], t: datetime) -> None:
        """An outlet's own story on the same event: its own opening, then the same one or two
        sentences quoted from the body of the wire story."""
        rng = self.rng
        sentences = [s for p in paras[1:] for s in re.split(r"(?<=[.!?”\"])\s+", p) if 8 <= len(s.split()) <= 30]
        quotes = rng.sample(sentences, min(len(sentences), rng.randint(1, 2)))
        text = [self.markov.paragraph() for _ in range(rng.randint(5, 9))]
        for q in quotes:
            text.insert(rng.randint(2, len(text)), q)
        self.copy(text, f"{key}-same-event", "same-event", None, t, rng.choice(self.outlets))

    def own_stories(self, t0: datetime, per_outlet: int) -> None:
        """Each outlet's own short pieces: different stories sharing only the outlet template."""
        for outlet in self.outlets:
            for j in range(per_outlet):
                text = [self.markov.paragraph() for _ in range(self.rng.randint(2, 6))]
                t = t0 + timedelta(hours=self.rng.uniform(0, 96))
                self.copy(text, f"own-{outlet.domain}-{j}", "own", None, t, outlet)


def _britishise(text: str) -> str:
    def word(m: re.Match) -> str:
        w = m.group(0)
        b = BRITISH.get(w.lower())
        if b is None:
            return w
        return b.capitalize() if w[0].isupper() else b
    return _IZE.sub(r"\1is\2", re.sub(r"\b[A-Za-z]+\b", word, text))


def build_corpus(fundus_dir: Path, seed: int = 7) -> list[Article]:
    """The labelled corpus for the quality benchmark."""
    rng = random.Random(seed)
    bodies = load_bodies(fundus_dir)
    markov = Markov([p for _, ps in bodies for p in ps if _english(p)], rng)
    b = Builder(rng, markov)
    t0 = datetime(2024, 5, 1, 6, tzinfo=timezone.utc)
    for i, (title, paras) in enumerate(bodies):
        b.wire_story(f"story{i:03d}", title, paras, t0 + timedelta(hours=3 * i), rng.randint(3, 9))
    b.own_stories(t0, per_outlet=12)
    return b.articles


def scale_corpus(fundus_dir: Path, stories: int, seed: int = 11) -> list[Article]:
    """Synthetic wire stories (Markov bodies) with copies and negatives, for the cost benchmark.

    One story every 14 minutes: about 500 articles a day, so that 10,000 stored articles already
    span more than dedup's 14-day candidate window and a larger store only adds older articles.
    """
    rng = random.Random(seed)
    markov = Markov([p for _, ps in load_bodies(fundus_dir) for p in ps if _english(p)], rng)
    b = Builder(rng, markov, n_outlets=40)
    t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
    for i in range(stories):
        paras = [markov.paragraph() for _ in range(rng.randint(6, 14))]
        b.wire_story(f"s{seed}-{i:06d}", markov.title(), paras, t0 + timedelta(minutes=14 * i), rng.randint(1, 4))
    return b.articles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("fundus_dir", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    articles = build_corpus(args.fundus_dir, args.seed)
    with args.out.open("w") as f:
        for a in articles:
            f.write(json.dumps(asdict(a) | {"published_at": a.published_at.isoformat()}) + "\n")
    print(f"{len(articles)} articles, {len({a.story for a in articles})} stories -> {args.out}")


if __name__ == "__main__":
    main()
