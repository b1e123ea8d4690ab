"""The offline extractor: check-worthy facts and their figures by rule, no LLM and no network.

A sentence is check-worthy when it states a figure, a date or weekday, or reports what a named
person or organization said. Verdicts are per claim, so claims are atomic: a sentence whose
facts (figures, time expressions) sit in more than one clause gives one claim per fact-bearing
clause; otherwise the sentence is one claim whose `quote` is the sentence exactly as written.

Clauses (tuned on the seed articles): a joint (comma, semicolon, spaced dash, "and"/"but"/
"while") starts a clause when a relative pronoun ("– which Ukraine entered …"), a reporting
participle (", adding that …"), an appositive with a relative (", an offensive that …"), a
complementizer ("and that …"), a verb ("and taken control of …") or a new subject with its verb
("while Russian authorities have evacuated …") follows; after a relative or appositive, the same
punctuation followed by a verb resumes the interrupted clause ("– told Putin …"). Joints inside
quotations, parentheses and figures do not count, and the figures of one event (killed and
injured; told to evacuate, evacuated and yet to go) stay in one claim across a joint. A clause
claim's `quote` is the clause as written (leading conjunction, trailing comma and full stop left
out by moving the span), its figures and time are the clause's own, its entities the clause's
plus the sentence's subject when that is a person, plus the sentence's "X region/district" when
the clause names no place (its figures count there).

What the rules do not do (an LLM extractor does these better):
* Sentences are split on punctuation outside double quotes; a multi-sentence quotation stays one
  claim with its attribution, and a quotation is never split into clauses. A headline run into
  the first sentence without punctuation stays joined to it.
* `statement` is the sentence with outer quotation marks removed and a reporting "he"/"she"
  replaced by the claimant. Other pronouns ("we", "they", "it", "there") are left as written,
  and the statement is not paraphrased.
* A clause's `statement` borrows words, never rewrites them: a verb phrase takes the subject and
  auxiliaries of the clause it is coordinated with ("He said that forces have advanced 12 km and
  taken 28 villages" → "Alexei Smirnov said that forces have taken 28 villages"), "and that …"
  takes the reporting clause, ", adding that …" becomes "<claimant> added that …", a resumed
  clause takes the words before the interruption. A relative clause takes the noun phrase before
  it ("The Kursk region, which Ukraine entered last Tuesday"), which is a fragment, and is the
  wrong noun when the relative refers further back. An appositive stays as written ("An
  offensive that has allowed Kiev’s forces to seize 28 towns"): "offensive" is not resolved to
  whose. Verbs are recognized by a word list and "-ed", so a clause whose only verb is a
  present tense ("controls") does not start a claim.
* "he said" resolves to the last claimant of an earlier sentence in the same chunk, which is
  wrong when the article switched speakers without attributing the switch. An unattributed
  sentence that is entirely a quotation is credited to that same last claimant. "They" never
  resolves. A claimant without a name ("the governor of the Belgorod region") is kept as written.
* A surname alone ("Smirnov") becomes the full name only when the chunk spells it out; spelling
  variants across outlets ("Alexei"/"Aleksey") are not reconciled.
* Entities are runs of capitalized words, minus titles, weekdays, months and sentence-initial
  function words; there is no entity typing ("a person" is two or three capitalized words that
  name no organization or place).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from service.llm.base import ArticleContext, DraftClaim, DraftQuantity, Extraction
from service.pipeline.quantities import find_quantities, locate_quantities
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
    "Also Then There Here Still Why How Who Where Army Between".split()
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
        passive = _PASSIVE.search(_ADVERBS.sub("", before))
        if passive and not v.group().startswith(("was", "were")):
            continue  # "people were (also) told to leave": not an attribution
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


# --- clauses: one claim per fact ----------------------------------------------------------------

# A joint: a comma, semicolon or spaced dash, and/or a coordinating conjunction. Whether it
# starts a new clause depends on what follows (_joint_kind).
_JOINT = re.compile(
    r"(?:\s*(?P<punct>[,;])\s+|\s+(?P<dash>[–—-])\s+)(?:(?P<conj>and|but|while|whereas)\s+)?"
    r"|\s+(?P<conj2>and|but|while|whereas)\s+"
)
_TOKEN = re.compile(r"[A-Za-z][\w’'-]*|\d[\d,.]*|[^\w\s]")
_AUX = frozenset(
    "is are was were has have had will would can could may might must should shall be been "
    "being do does did".split()
)
# Verbs the "-ed" rule misses; a few present tenses ("appears") that are never nouns here.
_VERB_FORMS = frozenset(
    "taken took left held made fled seen saw gone went driven drove given gave told said met kept "
    "brought sent lost won struck began begun became become came fought caught spoke spoken "
    "stood wrote written built sought ran put set hit shot got found led paid thought knew known "
    "grew grown rose fell flew broke broken chose drew shown appears seems remains "
    "continues".split()
)
_NOT_VERBS = frozenset("armed unexpected based related limited united increased alleged".split())
_SKIPPED = frozenset("also already now then later still again further not never".split())
_RELATIVES = frozenset("which who whom whose where when".split())
_PARTICIPLES = {
    "adding": "added",
    "saying": "said",
    "noting": "noted",
    "stressing": "stressed",
    "warning": "warned",
    "explaining": "explained",
    "insisting": "insisted",
}
_NOT_IN_NP = frozenset(
    "of in into on at from to with by for over under near along across inside within about "
    "during after before between that which who".split()
)
_PLACE = re.compile(r"\b([A-Z][\w’'-]+)\s+(region|district|oblast|province|county)\b")
# Figures of one event stay in one claim even across a new subject and verb: "12 people had
# been killed and 121 others had been injured", "180,000 told to evacuate, 121,000 left".
_FAMILIES = {
    "casualties": ("kill", "dead", "death", "died", "injur", "wound"),
    "displacement": ("evacuat", "fled", "flee", "left", "leav"),
}
_ORGANIZATIONS = frozenset(
    "Court Ministry Council Agency Forces Force Service Nations Union Army Navy Police Office "
    "Committee Government Parliament Party News Security Guard".split()
)


@dataclass
class _Segment:
    """A clause of a sentence: [start, end) offsets, untrimmed; kind says how it joins on."""

    start: int
    end: int
    kind: str  # head, clause, verb, that, adding, relative, appositive or resume
    opener: str = ""  # the punctuation before it
    figures: list[DraftQuantity] = field(default_factory=list)
    time: str | None = None


def _tokens(text: str) -> list[tuple[str, int]]:
    return [(m.group(), m.start()) for m in _TOKEN.finditer(text)]


def _is_verb(word: str) -> bool:
    if not word.islower():
        return False  # "United", "Armed Forces": names, not verbs
    if word in _AUX or word in _VERB_FORMS:
        return True
    if _REPORTING.fullmatch(word) and word not in _ALSO_NOUNS:
        return True
    return word.endswith("ed") and len(word) > 4 and word not in _NOT_VERBS


def _masked(sentence: str, figures: list[tuple[int, int]]) -> str:
    """Quotations and parentheses as one word each, figures as digits: no joint inside them."""
    chars = list(sentence)
    spans = [(a + 1, b, "Q") for a, b in _quoted(sentence)]
    spans += [(m.start() + 1, m.end() - 1, "Q") for m in re.finditer(r"\([^()]*\)", sentence)]
    spans += [(a, b, "0") for a, b in figures]
    for a, b, fill in spans:
        chars[a:b] = fill * (b - a)
    return "".join(chars)


def _joint_kind(joint: re.Match[str], current: str, rest: str, previous: _Segment) -> str | None:
    """What clause a joint starts, or None when the sentence's clause goes on across it."""
    words = []
    for word, _ in _tokens(rest)[:12]:
        if not word[0].isalnum():
            break  # the next punctuation ends the look-ahead
        if word not in _SKIPPED:
            words.append(word)
    first = words[0] if words else ""
    punct = joint["punct"] or joint["dash"] or ""
    if punct == ";":
        return "clause"
    if joint["conj"] or joint["conj2"]:
        if not any(_is_verb(word) for word, _ in _tokens(current)):
            return None  # "the Ministry of Defense and the Court met": one subject
        if first == "that":
            return "that"  # "... and that 121,000 have left"
        if _is_verb(first):
            return "verb"  # "... and taken control of 28 settlements"
        for word in words[1:6]:  # "... and 121 others had been injured"
            if word in ("that", "which", "who", "whom"):
                break
            if _is_verb(word):
                return "clause"
        return None
    if first in _RELATIVES:
        return "relative"  # "– which Ukraine entered last Tuesday –"
    if first in _PARTICIPLES:
        return "adding"  # ", adding that Ukrainian troops had advanced ..."
    if first in ("a", "an", "the") and any(w in ("that", "which", "who") for w in words[1:5]):
        return "appositive"  # ", an offensive that has allowed ..."
    if previous.kind in ("relative", "appositive") and previous.opener == punct and _is_verb(first):
        return "resume"  # the clause a relative interrupted: "– told Putin that ..."
    return None


def _family(figure: DraftQuantity) -> str | None:
    return next(
        (f for f, stems in _FAMILIES.items() if any(s in figure.measure for s in stems)), None
    )


def _clauses(sentence: str, located: list[tuple[int, int, DraftQuantity]]) -> list[_Segment]:
    """The sentence's clauses, each with its figures and time; same-event clauses merged."""
    masked = _masked(sentence, [(a, b) for a, b, _ in located])
    segments = [_Segment(0, len(sentence), "head")]
    for joint in _JOINT.finditer(masked):
        current = segments[-1]
        kind = _joint_kind(
            joint, masked[current.start : joint.start()], masked[joint.end() :], current
        )
        if kind is not None:
            current.end = joint.start()
            opener = joint["punct"] or joint["dash"] or ""
            segments.append(_Segment(joint.end(), len(sentence), kind, opener))
    merged: list[_Segment] = []
    for segment in segments:
        segment.figures = [d for a, _, d in located if segment.start <= a < segment.end]
        previous = merged[-1] if merged else None
        family = _family(previous.figures[-1]) if previous and previous.figures else None
        if previous and family and segment.figures and _family(segment.figures[0]) == family:
            previous.end = segment.end
            previous.figures += segment.figures
        else:
            merged.append(segment)
    for segment in merged:
        segment.time = find_time(sentence[segment.start : segment.end])
    return merged


def _trim(sentence: str, segment: _Segment) -> tuple[int, int]:
    """The segment's quote: no leading space, no trailing comma, dash or full stop."""
    a, b = segment.start, segment.end
    while a < b and sentence[a].isspace():
        a += 1
    while b > a and (sentence[b - 1].isspace() or sentence[b - 1] in ",;:–—-"):
        b -= 1
    if b > a + 1 and sentence[b - 1] == "." and re.match(r"[a-z0-9”\"’')\]]", sentence[b - 2]):
        b -= 1
    return a, b


def _resolved(sentence: str, a: int, b: int, claimant: _Claimant) -> str:
    """sentence[a:b] with the reporting "he"/"she" replaced by the claimant's name."""
    text = sentence[a:b]
    if claimant.pronoun and claimant.name and a <= claimant.pronoun[0] < b:
        p, q = claimant.pronoun
        text = text[: p - a] + _pronoun_name(sentence, claimant) + text[q - a :]
    return " ".join(text.split())


def _predicate_prefix(text: str) -> str | None:
    """Subject and auxiliaries of the last clause: 'X said that forces have ' of '... advanced'."""
    tokens = _tokens(text)
    start = max(
        (i + 1 for i, (t, _) in enumerate(tokens) if t in ("that", "which", "who")), default=0
    )
    for word, offset in tokens[start:]:
        if _is_verb(word) and word not in _AUX:
            return text[:offset]
    return None


def _antecedent(text: str) -> str:
    """The noun phrase a relative clause follows: 'the Kursk region' of 'The governor of ...'."""
    start = len(text)
    for word, offset in reversed(_tokens(text)):
        if word.lower() in _NOT_IN_NP or _is_verb(word) or not word[0].isalnum():
            break
        start = offset
    return text[start:]


def _clause_statement(
    sentence: str, segments: list[_Segment], index: int, claimant: _Claimant, speaker: str | None
) -> str:
    """The clause made as self-contained as rules allow (limits in the module docstring)."""
    segment = segments[index]
    text = _resolved(sentence, *_trim(sentence, segment), claimant)
    first, _, rest = text.partition(" ")

    def before(*skip: str) -> str:
        base = next((s for s in reversed(segments[:index]) if s.kind not in skip), None)
        return _resolved(sentence, *_trim(sentence, base), claimant) if base else ""

    if segment.kind == "verb" and (prefix := _predicate_prefix(before("verb", "relative"))):
        if first in _AUX:  # "have advanced ... and is continuing": one auxiliary only
            prefix = re.sub(rf"(?:\b(?:{'|'.join(_AUX)})\s+)+$", "", prefix)
        text = prefix + text
    elif segment.kind == "that" and (head := before("verb", "relative", "that")):
        said = [m.end() for m in _REPORTING.finditer(head)]
        cut = head.rfind(" that ") if " that " in head else (said[-1] if said else -1)
        text = f"{head[:cut]} {text}" if cut > 0 else text
    elif segment.kind == "adding" and speaker and rest:
        text = f"{speaker} {_PARTICIPLES[first]} {rest}"
    elif segment.kind == "relative" and (head := before()):
        antecedent = _antecedent(head)
        verb = next((w for w in rest.split() if w not in _SKIPPED), "")
        subject_relative = first in ("which", "who") and _is_verb(verb)
        text = f"{antecedent} {rest}" if subject_relative else f"{antecedent}, {text}"
    elif segment.kind == "resume" and (head := before("relative", "appositive")):
        text = f"{head} {text}"
    return _finish(text)


def _finish(text: str) -> str:
    text = " ".join(text.split()).strip(" ,;:–—-")
    quotes = _quoted(text)
    if quotes and quotes[0][0] == 0:  # outer quotation marks go, inner ones stay
        close = quotes[0][1]
        text = text[1:close] + text[close + 1 :]
    text = text[:1].upper() + text[1:]
    return text if re.search(r"[.!?][”\"’']?$", text) else text + "."


def _is_person(name: str, aliases: dict[str, str]) -> bool:
    words = name.split()
    return name in aliases.values() or (
        2 <= len(words) <= 3
        and all(w[:1].isupper() for w in words)
        and not set(words) & _ORGANIZATIONS
        and not _PLACE.search(name)
    )


def _subject_person(
    sentence: str, masked: str, claimant: _Claimant, common: set[str], aliases: dict[str, str]
) -> str | None:
    """The person the sentence is about: a named subject before its first verb."""
    cut = next((offset for word, offset in _tokens(masked) if _is_verb(word)), None)
    if cut is None:
        return None
    if claimant.pronoun and claimant.pronoun[0] < cut:
        return claimant.name if claimant.name and _is_person(claimant.name, aliases) else None
    return next(
        (n for n in _entities(sentence[:cut], common, aliases) if _is_person(n, aliases)), None
    )


# --- claims -------------------------------------------------------------------------------------


def _whole_quote(sentence: str) -> bool:
    quotes = _quoted(sentence)
    return bool(quotes) and quotes[0][0] == 0 and not sentence[quotes[0][1] + 1 :].strip(" .,!?")


def _pronoun_name(sentence: str, claimant: _Claimant) -> str:
    """The claimant's name as it replaces "he": "..., he said" → "..., the Kursk governor said"."""
    name = claimant.name or ""
    if claimant.pronoun and sentence[claimant.pronoun[0]].islower():
        if name.split()[0] in ("The", "A", "An"):
            name = name[0].lower() + name[1:]
    return name


def _statement(sentence: str, claimant: _Claimant, carried: bool) -> str:
    text = sentence
    if claimant.pronoun and claimant.name:
        a, b = claimant.pronoun
        text = text[:a] + _pronoun_name(sentence, claimant) + text[b:]
    quotes = _quoted(text)
    if quotes and quotes[0][0] == 0:  # outer quotation marks go, inner ones stay
        a, b = quotes[0]
        text = text[1:b] + text[b + 1 :]
    text = " ".join(text.split())
    return f"{claimant.name} said: {text}" if carried and claimant.name else text


@dataclass
class _Chunk:
    """What every sentence of a chunk is read against."""

    context: ArticleContext
    common: set[str]  # lower-case words of the chunk: "reports" here → "Reports" is no name
    aliases: dict[str, str]


def _sentence_claims(
    sentence: str, claimant: _Claimant, carried: bool, chunk: _Chunk
) -> list[DraftClaim]:
    located = locate_quantities(sentence)
    clauses = _clauses(sentence, located)
    facts = [i for i, c in enumerate(clauses) if c.figures or c.time]
    if len(facts) <= 1:  # one fact-bearing clause (or none): the sentence is the claim
        return [
            _draft(
                sentence,
                _statement(sentence, claimant, carried),
                claimant,
                _entities(sentence, chunk.common, chunk.aliases),
                [d for _, _, d in located],
                find_time(sentence),
                chunk,
            )
        ]
    masked = _masked(sentence, [(a, b) for a, b, _ in located])
    person = _subject_person(sentence, masked, claimant, chunk.common, chunk.aliases)
    speaker = claimant.name or person
    places = [m.group() for m in _PLACE.finditer(sentence)]
    drafts = []
    for index in facts:
        clause = clauses[index]
        a, b = _trim(sentence, clause)
        statement = _clause_statement(sentence, clauses, index, claimant, speaker)
        entities = _entities(sentence[a:b], chunk.common, chunk.aliases)
        if person and person not in entities:
            entities.append(person)
        if not _PLACE.search(statement):  # the clause's figures count in the sentence's place
            entities += [p for p in places if p not in entities]
        time = clause.time or find_time(statement)
        drafts.append(
            _draft(sentence[a:b], statement, claimant, entities, clause.figures, time, chunk)
        )
    return drafts


def _draft(
    quote: str,
    statement: str,
    claimant: _Claimant,
    entities: list[str],
    quantities: list[DraftQuantity],
    time_text: str | None,
    chunk: _Chunk,
) -> DraftClaim:
    when = resolve_time(time_text, chunk.context.published_at) if time_text else None
    return DraftClaim(
        statement=statement,
        quote=quote,
        claimant=claimant.name,
        entities=entities,
        quantities=quantities,
        time_text=time_text,
        event_date=when.date if when else None,
    )


def extract_drafts(chunk: str, context: ArticleContext) -> list[DraftClaim]:
    """The check-worthy sentences of a chunk as draft claims (rules in the module docstring)."""
    common = {w for w in re.findall(r"\b[a-z]+\b", chunk)}
    read = _Chunk(context, common, _aliases(chunk))
    last: str | None = None
    claims = []
    for a, b in split_sentences(chunk):
        sentence = chunk[a:b]
        if len(sentence) < 80 and _BOILERPLATE.match(sentence):
            continue
        claimant = _claimant(sentence, last)
        carried = claimant.name is None and claimant.pronoun is None and _whole_quote(sentence)
        if carried:
            claimant = _Claimant(last)
        if claimant.name:
            claimant.name = read.aliases.get(claimant.name, claimant.name)
            last = claimant.name
        has_figures, time_text = bool(find_quantities(sentence)), find_time(sentence)
        if not (has_figures or time_text or claimant.name):
            continue
        if not (has_figures or claimant.name) and len(re.findall(r"\b[a-z]{2,}\b", sentence)) < 3:
            continue  # a date and no predicate: a dateline ("date 2024-08-12 Moscow, Kyiv")
        claims += _sentence_claims(sentence, claimant, carried, read)
    return claims


class OfflineExtractor:
    """Rule-based claims for tests, demos and running without an LLM; never calls out."""

    name = "offline-rules/2"
    model: str | None = None
    prompt_version: str | None = None

    async def extract(self, chunk: str, context: ArticleContext) -> Extraction:
        return Extraction(claims=extract_drafts(chunk, context))
