"""The offline extractor: check-worthy sentences and their figures by rule, no LLM and no network.

A sentence is check-worthy when it states a figure, a date or weekday, or reports what a named
person or organization said. Each becomes one draft claim whose `quote` is the sentence exactly as
it appears in the chunk.

What the rules do not do (an LLM extractor does these better):
* Sentences are split on punctuation outside double quotes; a multi-sentence quotation stays one
  claim with its attribution. A headline run into the first sentence without punctuation stays
  joined to it.
* `statement` is the sentence with outer quotation marks removed and a reporting "he"/"she"
  replaced by the claimant. Other pronouns ("we", "they", "it", "there") are left as written,
  and the statement is not paraphrased.
* "he said" resolves to the last claimant of an earlier sentence in the same chunk, which is
  wrong when the article switched speakers without attributing the switch. An unattributed
  sentence that is entirely a quotation is credited to that same last claimant. "They" never
  resolves. A claimant without a name ("the governor of the Belgorod region") is kept as written.
* A surname alone ("Smirnov") becomes the full name only when the chunk spells it out; spelling
  variants across outlets ("Alexei"/"Aleksey") are not reconciled.
* Entities are runs of capitalized words, minus titles, weekdays, months and sentence-initial
  function words; there is no entity typing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from service.llm.base import ArticleContext, DraftClaim, Extraction
from service.pipeline.quantities import find_quantities
from service.pipeline.timeref import WEEKDAYS, find_time, resolve_time

_MONTHS = (
    "January February March April May June July August September October November December".split()
)
_ABBREVIATIONS = set(
    "Mr Mrs Ms Dr Gen Col Lt Sgt Capt Gov Sen Rep St Prof Jr Sr Rev Adm Maj Brig Cpl No Inc Ltd "
    "Co Corp Jan Feb Aug Sept Oct Nov Dec vs approx est".split()
)
_BOILERPLATE = re.compile(
    r"(?i)\s*(?:comments are closed|share your thoughts|let your voice be heard|watch live"
    r"|advertisement|sign up|subscribe|read more|click here|follow us|all rights reserved)"
)
_TRAILING_BOILERPLATE = re.compile(r"\s+Watch live\s*$")
_END = re.compile(r"[.!?]+[”\"’')\]]*(?=\s+[“\"‘'(\[]?[A-Z0-9])")
_OPEN_QUOTES, _CLOSE_QUOTES = '“"', '”"'

# --- sentences ----------------------------------------------------------------------------------


def _quoted(line: str) -> list[tuple[int, int]]:
    """[open, close] index pairs of double-quoted passages; an unclosed quote is not a passage."""
    pairs, opened = [], None
    for i, ch in enumerate(line):
        if opened is None and ch in _OPEN_QUOTES:
            opened = i
        elif opened is not None and ch in _CLOSE_QUOTES:
            pairs.append((opened, i))
            opened = None
    return pairs


def _is_abbreviation(line: str, dot: int) -> bool:
    """'Mr.', 'Gen.', 'Aug.', 'U.S.', initials 'J.': a full stop that does not end a sentence."""
    word = re.search(r"([A-Za-z.]+)$", line[:dot])
    token = word.group(1) if word else ""
    return token in _ABBREVIATIONS or re.fullmatch(r"(?:[A-Z]\.)*[A-Z]", token) is not None


def split_sentences(text: str) -> list[tuple[int, int]]:
    """[start, end) spans of the sentences of a text; lines without final punctuation end one."""
    spans = []
    for line_m in re.finditer(r"[^\n]+", text):
        line, offset = line_m.group(), line_m.start()
        quotes = _quoted(line)
        start = 0
        for m in _END.finditer(line):
            dot = m.start()
            inside_quote = any(a < dot < b for a, b in quotes)
            full_stop = m.group().rstrip("”\"’')]") == "."
            if inside_quote or (full_stop and _is_abbreviation(line, dot)):
                continue
            spans.append((offset + start, offset + m.end()))
            start = m.end()
        spans.append((offset + start, offset + len(line)))
    return [_strip(text, a, b) for a, b in spans if text[a:b].strip()]


def _strip(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if m := _TRAILING_BOILERPLATE.search(text, a, b):
        b = m.start()
    return a, b


# --- who says it --------------------------------------------------------------------------------

_REPORTING = re.compile(
    r"\b(?:was quoted as saying|were quoted as saying|made the announcement|said|says|say|told"
    r"|tells|announced|announces|reported|reports|noted|notes|added|adds|confirmed|confirms"
    r"|acknowledged|acknowledges|stated|states|claimed|claims|warned|warns|informed|informs|wrote"
    r"|writes|briefed|insisted|insists|admitted|admits|explained|explains|declared|declares"
    r"|revealed|reveals|stressed|stresses|emphasized|emphasised|estimates)\b"
)
_ALSO_NOUNS = {"reports", "claims", "states", "notes", "estimates"}  # verbs only before "that"
_PASSIVE = re.compile(r"\b(?:was|were|been|being|is|are|be)\s*$")
_ADVERBS = re.compile(
    r"(?:\s+(?:also|later|has|have|had|then|again|previously|earlier|further|repeatedly"
    r"|separately|subsequently|once|would|will))+\s*$"
)
_TITLES = set(
    "Mr Mrs Ms Dr Gen General Governor Gov President Prime Minister Commander Chief Army Acting "
    "Colonel Col Lt Sen Senator Rep Secretary Mayor Spokesman Spokeswoman King Queen Pope Sir "
    "Head Foreign Defense Defence".split()
)
_DEMONYMS = set("Western Eastern European British French German Chinese Polish".split())
_STOP_INITIAL = set(
    "The A An In On At But And Meanwhile However During Under Over After Before Throughout "
    "Earlier Later He She It They We I You This That These Those His Her Its Their Our Some About "
    "Nearly Almost More Less Let Share Comments First Trying Reports While When If As Since Until "
    "Although Though Despite For From With By Into Of To What Each Every All Both No Not So Yet "
    "Also Then There Here Still Why How Who Where Army".split()
)
_NOT_SUBJECT = re.compile(
    r"(?i)(?:which|who|whose|where|when|in|on|at|during|with|after|before|including|as|while)\b"
)
# A capitalized word may hold inner dots ("U.S") but never a sentence's final one.
_CAP = r"[A-Z](?:[\w’'-]|\.(?=\w))*"
_RUN = re.compile(rf"{_CAP}(?:[ \t]+(?:of[ \t]+(?:the[ \t]+)?)?{_CAP})*")
_TRAILING_RUN = re.compile(rf"((?:{_CAP}\s+)*{_CAP})$")
_INVERTING = {"said", "says", "added", "adds", "wrote", "writes", "noted", "notes", "explained"}


def _is_demonym(word: str) -> bool:
    return word in _DEMONYMS or (word.endswith("ian") and word[0].isupper())


def _strip_titles(name: str) -> str:
    """'Russian President Vladimir Putin' → 'Vladimir Putin', 'Gen Oleksandr Syrskyi' → ..."""
    words = name.replace(".", " ").split() if "." in name and " " in name else name.split()
    i = 0
    while i < len(words) - 1 and (
        words[i] in _TITLES or (_is_demonym(words[i]) and words[i + 1] in _TITLES)
    ):
        i += 1
    if i < len(words) - 1 and words[i] in ("The", "A", "An"):
        i += 1
    return " ".join(words[i:])


def _is_name(segment: str) -> bool:
    words = segment.split()
    return (
        0 < len(words) <= 6
        and words[0] not in _STOP_INITIAL
        and all(w[0].isupper() or w in ("of", "the") for w in words)
        and not any(c.isdigit() for c in segment)
    )


def _mask_quotes(sentence: str) -> str:
    """Quoted words replaced by underscores: a "said" inside a quotation is not an attribution."""
    masked = list(sentence)
    for a, b in _quoted(sentence):
        masked[a + 1 : b] = "_" * (b - a - 1)
    return "".join(masked)


def _subject(before: str) -> str | None:
    """Who the reporting verb belongs to, from the words before it."""
    appositive = bool(re.search(r"[,–—]\s*$", before))
    segments = [s.strip() for s in re.split(r",|\s-\s|[–—]", before) if s.strip()]
    if not segments:
        return None
    if not appositive:
        last = segments[-1]
        if run := _TRAILING_RUN.search(last):
            name = _strip_titles(run.group(1))
            if name.split()[0] not in _STOP_INITIAL and not name.endswith(("’s", "'s")):
                return name
        # an unnamed claimant: "the region's acting governor", "Russian news agencies"
        return last if len(last.split()) <= 6 and not _NOT_SUBJECT.match(last) else None
    for segment in reversed(segments):  # "The acting governor of Kursk, Alexei Smirnov, said"
        if _is_name(segment):
            return _strip_titles(segment)
    for segment in reversed(segments):  # "The governor of Belgorod, which neighbors Kursk, said"
        if not _NOT_SUBJECT.match(segment) and len(segment.split()) <= 8:
            return segment
    return None


@dataclass
class _Claimant:
    name: str | None = None
    pronoun: tuple[int, int] | None = None  # span of the "he"/"she" it replaces


def _claimant(sentence: str, last: str | None) -> _Claimant:
    masked = _mask_quotes(sentence)
    if m := re.search(r"\baccording to ([^,.;:]+)", masked):
        phrase = m.group(1).strip()
        return _Claimant(phrase if len(phrase.split()) <= 8 else None)
    for v in _REPORTING.finditer(masked):
        before, after = masked[: v.start()], masked[v.end() :]
        if v.group() in _ALSO_NOUNS and not re.match(r"\s+that\b", after):
            continue
        if not v.group().startswith(("was", "were")) and _PASSIVE.search(before):
            continue  # "people were told to leave": not an attribution
        if (
            v.group() in _INVERTING
            and re.search(r"[”\"],?\s*$", before)
            and (n := re.match(r"\s+([A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*)", after))
        ):
            return _Claimant(_strip_titles(n.group(1)))  # "..., said Andrey Miskov"
        before = _ADVERBS.sub("", before)
        close = max(before.rfind("”"), before.rfind('"'))
        clause = before[close + 1 :].lstrip(" ,")
        if p := re.search(r"(?:^|\s)([Hh]e|[Ss]he)\s*$", clause):
            start = close + 1 + (len(before[close + 1 :]) - len(clause)) + p.start(1)
            return _Claimant(last, (start, start + len(p.group(1))))
        if re.search(r"(?:^|\s)(?:[Tt]hey|[Ww]e|I|[Yy]ou|[Ii]t)\s*$", clause):
            return _Claimant()
        if clause.rstrip().endswith(("’s", "'s")):
            continue  # "Putin's claims that ...": a noun
        if name := _subject(clause):
            return _Claimant(name)
    return _Claimant()


# --- names --------------------------------------------------------------------------------------


def _runs(sentence: str, common: set[str]) -> list[str]:
    """Capitalized name runs, split at possessives, minus sentence-initial function words."""
    names = []
    for m in _RUN.finditer(sentence):
        preceding = sentence[: m.start()].rstrip(" “\"‘'([")
        initial = not preceding or preceding[-1] in ".!?:;–—"
        words = m.group().split()
        base = re.split(r"[’']", words[0])[0]  # "We’re" → "We"
        if initial and (base in _STOP_INITIAL or base.lower() in common):
            words = words[1:]
        current: list[str] = []
        for word in [*words, ""]:
            possessive = word.endswith(("’s", "'s"))
            word = word.removesuffix("’s").removesuffix("'s").rstrip(".,’'")
            if word and (current or word not in ("of", "the")):
                current.append(word)
            if (possessive or not word) and current:
                while current and current[-1] in ("of", "the"):
                    current.pop()
                names.append(" ".join(current))
                current = []
    return names


def _entities(sentence: str, common: set[str], aliases: dict[str, str]) -> list[str]:
    out: list[str] = []
    for run in _runs(sentence, common):
        words = _strip_titles(run).split()
        while len(words) > 1 and _is_demonym(words[0]):
            words = words[1:]  # "the Russian Kursk region" → Kursk
        name = " ".join(words)
        if all(w in WEEKDAYS or w in _MONTHS for w in words):
            continue
        if len(words) == 1 and (_is_demonym(name) or name in _TITLES or name in _STOP_INITIAL):
            continue
        name = aliases.get(name, name)
        if name not in out:
            out.append(name)
    return out


def _aliases(chunk: str) -> dict[str, str]:
    """Surname → full name, for surnames the chunk spells out once: 'Putin' → 'Vladimir Putin'."""
    full: dict[str, set[str]] = {}
    for run in _runs(chunk, set()):
        words = _strip_titles(run).split()
        if 2 <= len(words) <= 3 and not _is_demonym(words[0]) and _is_name(" ".join(words)):
            if all(w[1:].islower() for w in words):
                full.setdefault(words[-1], set()).add(" ".join(words))
    return {surname: names.pop() for surname, names in full.items() if len(names) == 1}


# --- claims -------------------------------------------------------------------------------------


def _whole_quote(sentence: str) -> bool:
    quotes = _quoted(sentence)
    return bool(quotes) and quotes[0][0] == 0 and not sentence[quotes[0][1] + 1 :].strip(" .,!?")


def _statement(sentence: str, claimant: _Claimant, carried: bool) -> str:
    text = sentence
    if claimant.pronoun and claimant.name:
        a, b = claimant.pronoun
        name = claimant.name
        if text[a].islower() and name.split()[0] in ("The", "A", "An"):
            name = name[0].lower() + name[1:]  # "..., he said" → "..., the Kursk governor said"
        text = text[:a] + name + text[b:]
    quotes = _quoted(text)
    if quotes and quotes[0][0] == 0:  # outer quotation marks go, inner ones stay
        a, b = quotes[0]
        text = text[1:b] + text[b + 1 :]
    text = " ".join(text.split())
    return f"{claimant.name} said: {text}" if carried and claimant.name else text


def extract_drafts(chunk: str, context: ArticleContext) -> list[DraftClaim]:
    """The check-worthy sentences of a chunk as draft claims (rules in the module docstring)."""
    common = {w for w in re.findall(r"\b[a-z]+\b", chunk)}  # "reports" here → "Reports" is no name
    aliases = _aliases(chunk)
    last: str | None = None
    claims = []
    for a, b in split_sentences(chunk):
        quote = chunk[a:b]
        if len(quote) < 80 and _BOILERPLATE.match(quote):
            continue
        claimant = _claimant(quote, last)
        carried = claimant.name is None and claimant.pronoun is None and _whole_quote(quote)
        if carried:
            claimant = _Claimant(last)
        if claimant.name:
            claimant.name = aliases.get(claimant.name, claimant.name)
            last = claimant.name
        quantities = find_quantities(quote)
        time_text = find_time(quote)
        if not (quantities or time_text or claimant.name):
            continue
        if not (quantities or claimant.name) and len(re.findall(r"\b[a-z]{2,}\b", quote)) < 3:
            continue  # a date and no predicate: a dateline ("date 2024-08-12 Moscow, Kyiv")
        when = resolve_time(time_text, context.published_at) if time_text else None
        claims.append(
            DraftClaim(
                statement=_statement(quote, claimant, carried),
                quote=quote,
                claimant=claimant.name,
                entities=_entities(quote, common, aliases),
                quantities=quantities,
                time_text=time_text,
                event_date=when.date if when else None,
            )
        )
    return claims


class OfflineExtractor:
    """Rule-based claims for tests, demos and running without an LLM; never calls out."""

    name = "offline-rules/1"
    model: str | None = None
    prompt_version: str | None = None

    async def extract(self, chunk: str, context: ArticleContext) -> Extraction:
        return Extraction(claims=extract_drafts(chunk, context))
