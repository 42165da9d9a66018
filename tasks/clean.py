"""Clean the text trafilatura extracts from news pages.

trafilatura gives one line per block. On real (often syndicated) pages those lines still hold the
headline and deck, photo captions, bare agency credits, newsletter and navigation prompts, and
paragraphs cut in pieces around inline links. The functions here are pure and work on lists of
lines so that extraction, wire detection and tests share one notion of "a caption" or "a credit".
"""
from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"\w+")
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")  # "___" rules between sections hold no word

# A caption: a picture label at the start, or a photographer / agency picture credit at the end.
_CAPTION_START = re.compile(
    r"^(?i:(?:file\s+)?(?:photo|picture|image|caption|graphic|video)s?\s*(?:\([^)]*\))?\s*:|pictured\b)"
    r"|^FILE\s*[-–—]\s"  # AP: "FILE - In this July 7, 2017, file photo, ..."
)
_CAPTION_END = re.compile(
    r"(?:\b(?:REUTERS|AFP|AP\s+Photo|EPA|Getty\s+Images|Bloomberg)\s*/\s*[A-Z][\w.'’\-]*(?:\s+[A-Z][\w.'’\-]*)*"
    r"(?:\s*/\s*(?:File|Pool|Handout)(?:\s+Photo)?)?"
    r"|\bvia\s+Getty\s+Images"
    r"|(?i:\((?:photo|picture|image|credit)s?(?:\s+by|:)[^)]*\))"
    r"|\([^()]*(?:\bPhoto\b|\bvia\s+(?:AP|AFP|Reuters|Getty)\b)[^()]*\)"  # "(Jorge Silva/Pool Photo via AP, File)"
    r"|(?:^|[.|•]\s*)(?i:(?:photo|picture|image)s?\s*:)\s*[\w .'’/\-]+"
    r")\s*[).]?\s*$"
)

# A credit line standing alone, as outlets close agency copy: "REUTERS", "- Reuters", "(AFP)".
_CREDIT_LINE = re.compile(
    r"^[\s\-–—(]*(?:reuters|afp|ap|agence france-presse|(?:the\s+)?associated\s+press)[\s)]*\.?$",
    re.IGNORECASE,
)

# Site furniture that lands inside the article container: newsletter, sharing, comment and
# "read more" prompts. Only short lines are tested, so a paragraph that happens to start the same
# way stays.
_BOILERPLATE = re.compile(
    r"^(?:"
    r"sign\s+up\b|subscribe\s+(?:now|to|for)\b|get\s+the\s+latest\b.*\binbox\b|.*\bnewsletters?\s+delivered\b"
    r"|follow\s+topic\b|follow\s+(?:us|[\w.'’]+(?:\s+[\w.'’]+)?)\s+on\s+(?:twitter|x|facebook|instagram|google\s+news|whatsapp|telegram)\b"
    r"|see\s+more\s+on\b|(?:read|see)\s+(?:more|also)\b|more\s*:|related\s*(?:stories|articles|coverage|topics)?\s*:?\s*$"
    r"|most\s+(?:read|popular|viewed)\b[^.!?]{0,30}$|(?:popular|trending(?:\s+now)?)\s*$"
    r"|(?:join|leave)\b.*\b(?:comment|commenting|conversations?|discussion)\b|comments?\s*(?:\(\d+\))?\s*$"
    r"|would\s+you\s+like\s+to\s+comment\b|please\s+read\s+our\s+comment\s+policy\b|.*\bbefore\s+commenting\b"
    r"|please\s+log\s*(?:in|out)\b|this\s+is\s+a\s+(?:breaking|developing)\s+(?:news\s+)?story\b"
    r"|(?:copyright\s*)?©|copyright\s+\d{4}\b|all\s+rights\s+reserved\b"
    r"|advertisement\s*$|story\s+continues\s+below\b|skip\s+(?:ad|advert)"
    r"|share\s+(?:this|on)\b|click\s+here\s+to\b|download\s+(?:our|the)\s+app\b"
    r"|got\s+a\s+(?:story|news\s+tip)\b|for\s+more\s+(?:stories|news|articles)\s+like\s+this\b"
    r")",
    re.IGNORECASE,
)
_BOILERPLATE_MAX_WORDS = 40

# Prompts in any language: a short line that names what sites ask readers to do (a newsletter, a
# subscription or sign-in, an app, sharing, a comment, following or supporting the outlet) and speaks
# to the reader (second person, please; here/now or an imperative opening the line) or as the outlet
# ("our newsletter"), or is a bare label opening with
# it ("Newsletter: Sport inside", "Suscríbete"). Stems match at a word start; the languages are those
# of the fundus corpora. Some notices need no address: paywalls, error reports, members-only lines.
_PROMPT_TOPIC = re.compile(
    r"(?<!\w)(?:"
    r"newsletter|nyhetsbrev|nyhedsbrev|uutiskirje|nieuwsbrief|bülten|boletín|infolettre|biuletyn|рассылк|розсилк"
    r"|subscri|abonn|abbona|suscr|assin[ae]|prenumer|abone|předplat|подпис|передплат|registrier|"
    r"inscri|iscriviti|regístrate|anmelden|einloggen|log\s*in\b|sign\s*(?:up|in)\b"
    r"|apps?\b|app-?store|google\s+play|podcast|whatsapp|telegram|instagram|facebook|tiktok|youtube|google\s+news"
    r"|share\s+(?:this|on|via|the|your)\b|teilen\s+sie\b|(?:artikel|beitrag)\s+teilen|compartir\s+(?:en|este|esta)\b"
    r"|partager\s+(?:sur|cet|l['’]article)|condividi|compartilh|del\s+artikkelen|dela\s+artikeln|paylaş|udostępnij"
    r"|поделит|поділит"
    r"|comments\b|comment\s+(?:below|on\s+this)|commentaires?\b|kommentar|comentari|comment[io]\b|yorum|komentarz"
    r"|комментар|коментар"
    r"|(?:unterstütz\w*|support|soutenez|sostieni|apoya\w*|støtt\w*|stöd\w*)\s+(?:uns|us|nous|ci|nos|oss)\b"
    r"|(?:deine|ihre|eure|your)\s+(?:unterstützung|support)|spende|donat"
    r"|kostenlos\s+test|probe-?abo|free\s+trial|prueba\s+gratis|essai\s+gratuit|prova\s+gratuita"
    r"|extern\w*\s+inhalt|external\s+content|contenu\s+externe|contenido\s+externo|contenuto\s+esterno"
    r"|privatsphäre|datenschutz|privacy\s+(?:settings|policy)|cookies?\b|einwillig|consent"
    r")"
    r"|뉴스레터|メールマガジン|メルマガ|구독|订阅|댓글|コメント|评论|分享|공유",
    re.IGNORECASE,
)
_READER = re.compile(
    r"(?<!\w)(?i:you|your|please|click|tap|du|dich|dir|dein\w*|euch|bitte|vous|votre|vos|tu|te|toi|tes|tú|usted"
    r"|ustedes|ti|tuo|tua|voi|vostr\w|você|vocês|jouw|uw|deg|dig|ditt|dine|dina|ty|twój|siz|sizin|lütfen|vy|váš"
    r"|вы|вас|ваш\w*|ты|тебя|ви|por\s+favor|per\s+favore|proszę|prosím|пожалуйста)(?!\w)"
    r"|(?<=\s)(?:Sie|Ihnen|Ihr|Ihre[nmrs]?)(?!\w)"  # German formal address, not "Sie" (she, they) opening a line
    r"|(?<!\w)(?i:our|unser\w*|notre|nos|nuestr[oa]s?|nostr[aoie]|vår|vårt|våre|vores|onze|nasz\w*|nossa|nosso"
    r"|наш\w*)(?!\w)"  # the outlet speaking of itself
    r"|^(?:[-*•→»>❤]\s*)*(?i:here|now|hier|jetzt|ici|aquí|ahora|qui|aqui|agora|her|här|nå|nu|tutaj|teraz|hemen"
    r"|здесь|сейчас|тут|зараз"  # or an imperative opening the line
    r"|sign\s+up|subscribe|join|download|get|abonniere|iscriviti|suscríbete|regístrate|registrati|abonnez-vous"
    r"|inscrivez-vous|inscríbete|descarga|télécharge[zr]?|scarica|assine|inscreva-se|zapisz\s+się|abone\s+olun)(?!\w)"
    r"|あなた|당신|您|你",
)
_LABEL = re.compile(r"^(?:[-*•→»>❤]\s*)*" + _PROMPT_TOPIC.pattern, re.IGNORECASE)
_NOTICE = re.compile(
    r"(?i:(?:reserved|réservée?s?|reservad[oa]s?|riservat[oa]|exclusiv[eo]s?|nur|sólo|solo|only)\s+(?:for|aux|à|a|para|per|für)"
    r"\s+(?:our\s+|nos\s+|los\s+|gli\s+)?(?:subscribers|abonnés|abonnenten|suscriptores|abbonati|assinantes|members|membres)"
    r"|(?:subscribers?|members)[-\s]only|fehler\s+gefunden|spotted\s+an?\s+(?:error|mistake|typo)"
    r"|report\s+an?\s+(?:error|mistake|typo)|signaler\s+une\s+erreur)"
    r"|会員限定|会員登録|会員向け|有料会員|구독|기사\s*URL이\s*복사"
)
_QUOTE_MARKS = "\"“”„«»‹›「」"
_LABEL_MAX_WORDS = 8
# Words one of which each of the expressions below needs (lowercased), to skip them cheaply.
_NOTICE_WORDS = ("subscri", "abonn", "suscr", "abbonat", "assinant", "member", "membre", "only", "fehler", "error",
                 "mistake", "typo", "erreur", "会員", "구독", "url")
_STANDARDS_WORDS = ("standards", "principles", "editorial", "grundsätze", "richtlinien", "leitlinien", "principes",
                    "editoriales")
_COPYRIGHT_WORDS = ("rights", "rechte", "derechos", "droits", "diritti", "direitos", "copyright", "©", "ⓒ", "무단",
                    "無断", "版权")
# "Read also" and "related" lines opening with the phrase, in the corpora's languages.
_READ_ALSO = re.compile(
    r"^(?:[-*•→»>]\s*)*(?i:lesen\s+sie\s+(?:auch|mehr|hier)|mehr\s+zum\s+thema|auch\s+interessant|ähnliche\s*:"
    r"|(?:à\s+)?lire\s+aussi|sur\s+le\s+même\s+sujet|le(?:e|er)\s+(?:también|más)|noticias?\s+relacionadas?"
    r"|te\s+puede\s+interesar|leggi\s+anche|czytaj\s+(?:więcej|też|także)|les\s+også|läs\s+(?:också|även)"
    r"|læs\s+også|lue\s+myös|lees\s+ook|ilgili\s+haberler|читайте\s+также|дивіться\s+також|ler\s+também"
    r"|leia\s+também|ähnliche\s+artikel)"
    r"|^(?:関連記事|関連キーワード|おすすめ情報|관련\s*기사|相关新闻|相关阅读)"
)
# Copyright notices, wherever the line puts them ("<Copyright ⓒ Outlet. All rights reserved.>").
_COPYRIGHT = re.compile(
    r"(?i:all\s+rights\s+reserved|alle\s+rechte\s+vorbehalten|todos\s+los\s+derechos\s+reservados"
    r"|tous\s+droits\s+réservés|tutti\s+i\s+diritti\s+riservati|todos\s+os\s+direitos\s+reservados"
    r"|^\W*(?:copyright|©|ⓒ)\s*(?:\d{4}|\w))"
    r"|무단\s*전재|無断転載|版权所有"
)
# The agencies' and outlets' own standards notices ("Our Standards: The Thomson Reuters Trust Principles.").
_STANDARDS = re.compile(
    r"(?i:^our\s+standards\b|\btrust\s+principles\b|\beditorial\s+(?:standards|guidelines|policy|code)\b"
    r"|^unsere\s+(?:standards|grundsätze)\b|\bredaktionelle[nr]?\s+(?:standards|richtlinien|leitlinien|grundsätze)\b"
    r"|\bprincipes\s+(?:éditoriaux|de\s+confiance)\b|\b(?:estándares|normas|principios)\s+editoriales\b)"
)

# A heading that introduces other stories after the article. Only trusted in the second half of
# the body; earlier it heads an inline box and only the heading line goes. "Most read" and
# "Related" boxes sit inside articles too often to end one.
_END_OF_ARTICLE = re.compile(
    r"^(?:more\s+from|read\s+next|you\s+(?:may|might)\s+(?:also\s+)?like|recommended\s+for\s+you)\b[^.!?]{0,40}$",
    re.IGNORECASE,
)

_TERMINAL = ".!?…:;。！？．"
_CLOSERS = "\"'”’)]»」』）"
# A line ending in one of these words cannot be a finished heading or sentence.
_OPEN_ENDINGS = frozenset(
    "a an the of to in on at by for from with and or but nor that which who whom whose as than "
    "into onto about over under between against during including like said says told mr mrs ms dr prof sir".split()
)
# A line going on with a sentence: a first word in lower case ("iPhone" is a name), or punctuation.
_CONTINUATION_START = re.compile(r"^(?:[a-z][^\sA-Z]*(?:\s|$)|[,;:)\]%]|[–—]\s)")

_HEADLINE_MAX_WORDS = 40


def tokens(text: str) -> list[str]:
    """Lowercased word tokens, the unit every similarity test here uses."""
    return _WORD.findall(text.lower())


@lru_cache(maxsize=4096)
def is_caption(line: str) -> bool:
    """True for a photo caption or picture credit: never body text, never wire evidence."""
    return bool(_CAPTION_START.search(line) or _CAPTION_END.search(line))


def is_credit_line(line: str) -> bool:
    """True for a bare agency credit line ("REUTERS", "- Reuters", "AFP")."""
    return bool(_CREDIT_LINE.match(line))


@lru_cache(maxsize=4096)  # wire detection and cleaning ask about the same lines of a page
def is_boilerplate(line: str) -> bool:
    """True for a short newsletter, subscription, app, sharing, comment, support or navigation prompt,
    in any language, or a standards or copyright notice."""
    words = len(line.split())
    if words > _BOILERPLATE_MAX_WORDS:
        return False
    low = line.lower()
    return bool(
        _BOILERPLATE.match(line) or _READ_ALSO.match(line)
        or (_may_hold(low, _STANDARDS_WORDS) and _STANDARDS.search(line))
        or (_may_hold(low, _COPYRIGHT_WORDS) and _COPYRIGHT.search(line))
        or is_prompt(line, words)
    )


def _may_hold(low: str, words: tuple[str, ...]) -> bool:
    """A cheap test before a long expression: does the lowercased line hold one of its words at all."""
    return any(word in low for word in words)


def is_prompt(line: str, words: int | None = None) -> bool:
    """True for a line asking the reader to sign up, subscribe, get the app, share, comment, follow or
    support the outlet (it names one of those and addresses the reader, or is a bare label naming it),
    and for paywall, members-only and error-report notices. Lines quoting someone are never prompts."""
    if any(q in line for q in _QUOTE_MARKS):
        return False
    if _may_hold(line.lower(), _NOTICE_WORDS) and _NOTICE.search(line):
        return True
    if not _PROMPT_TOPIC.search(line):
        return False
    words = len(line.split()) if words is None else words
    label = words <= _LABEL_MAX_WORDS and line.rstrip(_CLOSERS)[-1:] not in ".!" and bool(_LABEL.match(line))
    return label or bool(_READER.search(line))


# Page furniture around the story that is no prompt: a source line ("Quelle: dpa", "(Quelle: APA/sda)"),
# a short parenthesised credit ("(dmk)"), a slash-joined credit ("SDA/sep", "Jane Doe/Getty Images"), a
# reading time, and date and time lines (most of their words are numbers).
_SOURCE_LINE = re.compile(
    r"^[(\[]?(?i:quelle|quellen|source|sources|fuente|fuentes|fonte|fontes|kaynak|źródło|zdroj|источник|джерело"
    r"|kilde|källa|bron|lähde|forrás|izvor)\s*:"
)
_PARENTHESISED = re.compile(r"^\([^()]{1,40}\)\.?$")
_SLASH_CREDIT = re.compile(r"^[^\s/]+(?:\s[^\s/]+){0,2}(?:\s?/\s?[^\s/]+(?:\s[^\s/]+){0,2})+$")
_READING_TIME = re.compile(
    r"(?i:lesedauer|lesezeit|reading\s+time|min(?:ute)?s?\.?\s+read\b|temps\s+de\s+lecture|tiempo\s+de\s+lectura"
    r"|tempo\s+di\s+lettura|lesetid|läsminut|okuma\s+süresi|czas\s+czytania)"
)
_DIGITS = re.compile(r"\d")
_FURNITURE_MAX_WORDS = 10
_FURNITURE_MAX_CHARS = 80
_CREDIT_MAX_WORDS = 6


def is_furniture(line: str) -> bool:
    """True for a source, credit, reading-time, date or time line."""
    words = line.split()
    if len(words) > _FURNITURE_MAX_WORDS or len(line) > _FURNITURE_MAX_CHARS:  # (scripts without spaces)
        return False
    if len(words) <= _CREDIT_MAX_WORDS and (
        _SOURCE_LINE.match(line) or _PARENTHESISED.match(line) or _READING_TIME.search(line)
        or (_SLASH_CREDIT.match(line) and line[-1] not in ".!?:" and any(c.isalpha() for c in line))
    ):
        return True
    numbers = [t for t in _WORD.findall(line) if _DIGITS.search(t)]
    return len(numbers) >= 3 and len(numbers) >= 0.5 * len(_WORD.findall(line))


# Words that may stand beside the author's names in a byline ("By", "Von", "Por", a role).
_BYLINE_WORDS = frozenset(
    "by von por par av di door od af de und and y et e og och ve i и та text texte fotos foto photos photo "
    "reporter redaktion redakteur korrespondent correspondent staff writer 기자 외 명".split()
)
_BYLINE_MAX_WORDS = 10


def is_byline(line: str, authors: str | None) -> bool:
    """True for a short line naming the page's authors, with at most "By" or a role beside them."""
    if not authors or len(line.split()) > _BYLINE_MAX_WORDS:
        return False
    names = set(tokens(authors))
    words = [w for w in tokens(line) if not w.isdigit()]
    named = sum(w in names for w in words)
    return named >= 2 and all(w in names or w in _BYLINE_WORDS for w in words)


_LIST_MARK = re.compile(r"^(?:[-*•·→»>]+\s*)+")
_LINK_LINE_MAX_WORDS = 30
_LINK_SHARE = 0.6  # of a line's characters in link texts, for it to be a link
LINK_TEXT_MIN_CHARS = 4  # shorter link texts ("1", "AP") say nothing about a line


def is_link_line(line: str, link_texts: frozenset[str]) -> bool:
    """True for a short line made mostly of the texts of the page's links to other pages: a teaser,
    a list of other stories, a "read also" line. Inline links in a paragraph cover little of it; a
    sentence standing alone (ending in . ! or ?) that is a link is taken as the writer's, and so is
    a word or two (a sub-heading that links to a topic page)."""
    words = len(line.split())
    if not link_texts or words > _LINK_LINE_MAX_WORDS or words <= 2:
        return False
    bare = _LIST_MARK.sub("", line).strip()
    if bare == line and line.rstrip(_CLOSERS)[-1:] in ".!?":
        return False
    if bare in link_texts:
        return True
    covered = bytearray(len(bare))
    for text in link_texts:
        if len(text) <= len(bare):
            start = bare.find(text)
            while start >= 0:
                covered[start:start + len(text)] = b"\x01" * len(text)
                start = bare.find(text, start + len(text))
    return bool(bare) and sum(covered) >= _LINK_SHARE * len(bare)


def split_lines(text: str) -> list[str]:
    """Non-empty lines with inner whitespace collapsed (trafilatura ends every block with a newline)."""
    lines = (" ".join(raw.split()) for raw in text.splitlines())
    return [line for line in lines if _LETTER_OR_DIGIT.search(line)]


def _continues(previous: str, line: str) -> bool:
    """True when `line` carries on the sentence `previous` left open (a split around a link)."""
    if previous.endswith("-") or previous[-1] in ",(":
        return True
    if previous.rstrip(_CLOSERS)[-1:] in _TERMINAL or previous.startswith(("- ", "* ")):
        return False
    last = previous.rsplit(None, 1)[-1].lower().strip(".")
    return bool(_CONTINUATION_START.match(line)) or last in _OPEN_ENDINGS


def join_broken_paragraphs(lines: list[str]) -> list[str]:
    """Join pieces of one paragraph that the page cut around inline links or embeds."""
    joined: list[str] = []
    for line in lines:
        if joined and _continues(joined[-1], line):
            glue = "" if line[0] in ",;:).%" else " "
            joined[-1] = f"{joined[-1]}{glue}{line}"
        else:
            joined.append(line)
    return joined


def _similar(line: str, reference: str | None) -> bool:
    """True when a leading line repeats the headline or deck (possibly reworded or shortened)."""
    if not reference:
        return False
    a, b = tokens(line), tokens(reference)
    if not a or not b:
        return False
    common = sum(min(a.count(t), b.count(t)) for t in set(a))
    dice = 2 * common / (len(a) + len(b))
    containment = common / min(len(a), len(b))
    return dice >= 0.8 or (containment >= 0.7 and not line.rstrip(_CLOSERS).endswith("."))


def drop_headline(lines: list[str], title: str | None) -> list[str]:
    """Drop the headline that trafilatura keeps at the top of the body. The deck under it stays: it is
    part of the story as the outlet tells it (fundus's hand-checked bodies keep it, in every language)."""
    if lines and len(lines[0].split()) <= _HEADLINE_MAX_WORDS and _similar(lines[0], title):
        return lines[1:]
    return lines


def drop_repeats(lines: list[str]) -> list[str]:
    """Drop lines whose words repeat an earlier line (captions restating a paragraph, pull quotes)."""
    seen: set[tuple[str, ...]] = set()
    kept = []
    for line in lines:
        key = tuple(tokens(line))
        if key not in seen:
            seen.add(key)
            kept.append(line)
    return kept


def cut_trailing_teasers(lines: list[str]) -> list[str]:
    """Drop a "More from ..." / "Read next" heading and, in the second half of the body, all after it."""
    total, seen, kept = sum(map(len, lines)), 0, []
    for line in lines:
        if _END_OF_ARTICLE.match(line):
            if seen >= total / 2:
                break
        else:
            kept.append(line)
        seen += len(line)
    return kept


def clean_lines(lines: list[str], *, title: str | None = None, authors: str | None = None,
                link_texts: frozenset[str] = frozenset()) -> list[str]:
    """The article's paragraphs: furniture, captions, credits and bylines out, split paragraphs joined.

    `link_texts` are the texts of the page's links (whitespace collapsed): lines made of them go.
    """
    body = [
        line for line in lines
        if not (is_caption(line) or is_credit_line(line) or is_boilerplate(line) or is_furniture(line)
                or is_byline(line, authors) or is_link_line(line, link_texts))
    ]
    body = cut_trailing_teasers(body)
    # The headline goes before pieces are joined: a headline is never the first half of a paragraph.
    body = join_broken_paragraphs(drop_headline(body, title))
    return drop_repeats(body)
