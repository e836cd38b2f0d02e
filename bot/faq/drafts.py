"""Turn what a moderator typed into the FAQ form into a validated `MythEntry`, and back.

The form has five text fields (Discord's limit for a modal). Verdict and evidence share one short
field, read strictly ("myth / moderate"); sources are DOIs, https links or bibliography ids, one per
line. Every problem is reported under the label of the field the moderator typed it in.

Pure text in, entries out, no Discord types: the form layer builds the `Entry` here and storage only
stores it (`add_entry_op` / `edit_entry_op`), and any other front end (a CLI) can read the same fields.
"""

import re
from collections.abc import Container
from dataclasses import dataclass
from typing import get_args

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from bot.engine.schema import (
    ANSWER_MAX,
    DOI_PATTERN,
    TITLE_MAX,
    EvidenceGrade,
    MythEntry,
    Stewardship,
    Verdict,
    slugify,
)

VERDICTS: tuple[str, ...] = get_args(get_args(Verdict)[0])
EVIDENCE_GRADES: tuple[str, ...] = get_args(EvidenceGrade)

# Discord caps a text input at 4000 characters; the schema's own limits are tighter where it has one.
INPUT_MAX = 4000
VERDICT_INPUT_MAX = 40
MAX_LINKS = 10


@dataclass(frozen=True)
class FormField:
    key: str
    label: str  # at most 45 characters (Discord's limit for a text input label)
    max_length: int
    paragraph: bool
    required: bool
    placeholder: str


TITLE = FormField("title", "Title", TITLE_MAX, False, True, "Will squats fix hip dips?")
QUESTIONS = FormField("questions", "Questions people ask, one per line", INPUT_MAX, True, True,
                      "do squats get rid of hip dips\nwill squats grow my hips")
ANSWER = FormField("answer", "Answer", ANSWER_MAX, True, True, "Short and honest, in your own words.")
VERDICT = FormField("verdict", "Verdict / evidence", VERDICT_INPUT_MAX, False, True,
                    "e.g. myth / moderate")
SOURCES = FormField("sources", "Sources: DOIs or https links, one per line", INPUT_MAX, True, False,
                    "10.1519/JSC.0b013e3181fb4a46\nhttps://pubmed.ncbi.nlm.nih.gov/28698222/")
FORM_FIELDS = (TITLE, QUESTIONS, ANSWER, VERDICT, SOURCES)

# Where a schema error on an entry field shows up in the form.
_FIELD_LABELS = {"title": TITLE.label, "questions": QUESTIONS.label, "answer": ANSWER.label,
                 "verdict": VERDICT.label, "evidence": VERDICT.label, "links": SOURCES.label,
                 "sources": SOURCES.label}

_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:", re.IGNORECASE)
# What is left of a masked link once the readable ones are written out: a label's end, then a target.
_LINK_JUNCTION = re.compile(r"\](?=\(\s*<?[a-z][a-z0-9+.-]*:)", re.IGNORECASE)
# Longer labels, URLs and titles are not written out nicely (the junction still is broken): bounds the work.
MAX_LABEL_CHARS = 200
MAX_TARGET_CHARS = 600
_TITLE_ENDS = {'"': "\"'", "'": "\"'", "(": ")"}
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_DOI = re.compile(DOI_PATTERN)
_SEPARATORS = re.compile(r"\s*[/,;|·]\s*")


@dataclass(frozen=True)
class Draft:
    """The raw text of the five form fields."""

    title: str = ""
    questions: str = ""
    answer: str = ""
    verdict: str = ""
    sources: str = ""


class DraftError(ValueError):
    """What is wrong with a draft, as (field label, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("\n".join(f"{label}: {message}" for label, message in problems))

    @property
    def fields(self) -> list[str]:
        return [label for label, _ in self.problems]


def _label_end(text: str, start: int) -> int | None:
    """The index of the ']' closing the label opened at `start` (nested brackets allowed)."""
    depth = 0
    for i in range(start + 1, min(len(text), start + 1 + MAX_LABEL_CHARS)):
        char = text[i]
        if char == "[":
            depth += 1
        elif char == "]" and depth:
            depth -= 1
        elif char == "]":
            return i
    return None


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _url_end(text: str, i: int) -> int:
    """The end of a bare URL starting at `i`: no spaces, parentheses balanced ("..._(anatomy)")."""
    depth = 0
    while i < len(text) and not text[i].isspace() and text[i] != "<":
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            if not depth:
                break
            depth -= 1
        i += 1
    return i


def _target(text: str, i: int) -> tuple[str, int] | None:
    """Parse `(url "title")` from the '(' at `i`: the URL and the index after ')', or None."""
    text = text[: i + MAX_TARGET_CHARS]
    i = _skip_space(text, i + 1)
    if not _SCHEME.match(text, i + text.startswith("<", i)):
        return None
    if text.startswith("<", i):
        close = text.find(">", i)
        if close < 0:
            return None
        url, i = text[i + 1 : close].strip(), close + 1
    else:
        end = _url_end(text, i)
        url, i = text[i:end], end
    if not _SCHEME.match(url):
        return None
    after = _skip_space(text, i)
    if after > i and after < len(text) and text[after] in _TITLE_ENDS:  # a title: hover text, dropped
        close = next((j for j in range(after + 1, len(text)) if text[j] in _TITLE_ENDS[text[after]]), -1)
        if close < 0:
            return None
        after = _skip_space(text, close + 1)
    return (url, after + 1) if text.startswith(")", after) else None


def _written_out(text: str) -> str:
    parts: list[str] = []
    done = i = 0
    while (i := text.find("[", i)) >= 0:
        end = _label_end(text, i)
        found = _target(text, end + 1) if end is not None and text.startswith("(", end + 1) else None
        if found is None:
            i += 1
            continue
        url, after = found
        label = _written_out(text[i + 1 : end]).strip()
        parts += [text[done:i], url if label.rstrip("/") in ("", url.rstrip("/")) else f"{label} ({url})"]
        done = i = after
    return "".join(parts) + text[done:]


def unmask_links(text: str) -> str:
    """Rewrite `[text](https://...)` as `text (https://...)` so readers see where a link leads.

    Any scheme, in any case, with nested brackets, labels over several lines and any kind of title.
    Whatever still reads as a masked link to Discord's markdown (odd brackets) loses it: a space
    goes between ']' and '('.
    """
    return _LINK_JUNCTION.sub("] ", _written_out(text))


def parse_questions(text: str) -> list[str]:
    """One phrasing per non-empty line; list bullets dropped, repeats (ignoring case) dropped."""
    seen: set[str] = set()
    questions = []
    for line in text.splitlines():
        question = _BULLET.sub("", line).strip()
        if question and question.casefold() not in seen:
            seen.add(question.casefold())
            questions.append(question)
    return questions


def parse_verdict(text: str) -> tuple[str, str]:
    """'myth / moderate' -> ('myth', 'moderate'). Strict: only the schema's words are accepted."""
    words = " ".join(text.casefold().split())
    parts = [part for part in _SEPARATORS.split(words) if part]
    if len(parts) == 1:  # no separator: "partly true limited"
        verdict = next((v for v in sorted(VERDICTS, key=len, reverse=True) if words.startswith(v + " ")), None)
        parts = [verdict, words.removeprefix(verdict).strip()] if verdict else parts
    usage = (f"write a verdict and an evidence grade, e.g. 'myth / moderate'. Verdicts: {', '.join(VERDICTS)}. "
             f"Evidence: {', '.join(EVIDENCE_GRADES)}")
    if len(parts) != 2:
        raise DraftError([(VERDICT.label, usage)])
    verdict, evidence = parts
    if verdict in EVIDENCE_GRADES and evidence in VERDICTS:
        verdict, evidence = evidence, verdict
    problems = []
    if verdict not in VERDICTS:
        problems.append((VERDICT.label, f"{verdict!r} is not a verdict; use one of {', '.join(VERDICTS)}"))
    if evidence not in EVIDENCE_GRADES:
        problems.append((VERDICT.label, f"{evidence!r} is not an evidence grade; use one of "
                                        f"{', '.join(EVIDENCE_GRADES)}"))
    if problems:
        raise DraftError(problems)
    return verdict, evidence


def _source_token(token: str, known_sources: Container[str]) -> tuple[str, str]:
    """('source', id) or ('link', https url); raises ValueError with a message for the moderator."""
    token = token.strip("<>").rstrip(".,;")
    doi = re.sub(r"^doi:\s*", "", token, flags=re.IGNORECASE)
    if _DOI.match(doi):
        return "link", f"https://doi.org/{doi}"
    if token.startswith("https://"):
        return "link", token
    if token.startswith("http://"):
        raise ValueError(f"{token!r}: use the https:// address")
    if token in known_sources:
        return "source", token
    raise ValueError(f"{token!r} is not a DOI (10.xxxx/...), an https:// link or a bibliography id")


def parse_sources(text: str, known_sources: Container[str] = ()) -> tuple[list[str], list[str]]:
    """(bibliography ids, https links) from DOIs, links and ids separated by lines or spaces."""
    sources: list[str] = []
    links: list[str] = []
    problems = []
    for line in text.splitlines():
        for token in re.sub(r"(?i)\bdoi:\s+", "doi:", _BULLET.sub("", line)).split():
            try:
                kind, value = _source_token(token, known_sources)
            except ValueError as exc:
                problems.append((SOURCES.label, str(exc)))
                continue
            target = sources if kind == "source" else links
            if value not in target:
                target.append(value)
    if len(links) > MAX_LINKS:
        problems.append((SOURCES.label, f"{len(links)} links; at most {MAX_LINKS}"))
    if problems:
        raise DraftError(problems)
    return sources, links


def _label(loc: tuple[str | int, ...], questions: list[str]) -> str:
    head = str(loc[0]) if loc else ""
    label = _FIELD_LABELS.get(head, head or "entry")
    if head == "questions" and len(loc) > 1 and isinstance(loc[1], int) and loc[1] < len(questions):
        text = questions[loc[1]]
        label += f" ({text[:40]!r}{'...' if len(text) > 40 else ''})"
    return label


def _message(error: ErrorDetails) -> str:
    if error["type"] == "too_long" and error["loc"] and error["loc"][0] == "questions":
        return "too many questions"
    return error["msg"].removeprefix("Value error, ")


def build_entry(draft: Draft, *, entry_id: str, stewardship: Stewardship | None = None,
                previous: MythEntry | None = None, known_sources: Container[str] = ()) -> MythEntry:
    """A valid `MythEntry` from the form, keeping the fields the form does not show from `previous`.

    Raises `DraftError` naming every field that is wrong; nothing is half-applied.
    """
    problems: list[tuple[str, str]] = []
    questions = parse_questions(draft.questions)
    if not questions:
        problems.append((QUESTIONS.label, "give at least one question, one per line"))
    verdict = evidence = None
    try:
        verdict, evidence = parse_verdict(draft.verdict)
    except DraftError as exc:
        problems += exc.problems
    sources: list[str] = []
    links: list[str] = []
    try:
        sources, links = parse_sources(draft.sources, known_sources)
    except DraftError as exc:
        problems += exc.problems
    data = previous.model_dump(exclude={"stewardship"}) if previous else {}
    data.update(id=entry_id, title=draft.title, questions=questions, answer=unmask_links(draft.answer),
                verdict=verdict or "myth", evidence=evidence or "limited", sources=sources, links=links,
                stewardship=stewardship)
    try:
        entry = MythEntry.model_validate(data)
    except ValidationError as exc:
        problems += [(_label(tuple(err["loc"]), questions), _message(err)) for err in exc.errors(include_url=False)]
    if problems:
        raise DraftError(problems)
    return entry


def entry_of(draft: Draft, *, previous: MythEntry | None = None, known_sources: Container[str] = ()) -> MythEntry:
    """The entry a submitted form describes. For an edit, `previous` (the entry as the form opened it) keeps
    its id and the fields the form does not show; a new entry's id is its title's slug, a wish the store
    makes unique. Who saved it and when, the store adds. Raises `DraftError`."""
    entry_id = previous.id if previous is not None else slugify(draft.title)
    return build_entry(draft, entry_id=entry_id, previous=previous, known_sources=known_sources)


def draft_of(entry: MythEntry) -> Draft:
    """The form prefilled with an entry, for `/faq edit`."""
    return Draft(
        title=entry.title,
        questions="\n".join(entry.questions),
        answer=entry.answer,
        verdict=f"{entry.verdict} / {entry.evidence}",
        sources="\n".join((*entry.sources, *entry.links)),
    )


def overflowing_fields(draft: Draft) -> list[str]:
    """Labels of the fields whose text is longer than the form allows (hand-edited entries)."""
    return [f.label for f in FORM_FIELDS if len(getattr(draft, f.key)) > f.max_length]

