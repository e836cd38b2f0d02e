"""Turn entries into plain, front-end-neutral views (the Discord cog and the CLI both draw these)."""

import re
from dataclasses import dataclass, field, replace

from bot.engine.knowledge import KnowledgeBase
from bot.engine.schema import Entry, MythEntry, Source

VERDICT_LABELS = {
    "myth": "❌ Myth",
    "true": "✅ True",
    "partly true": "⚖️ Partly true",
    "depends": "🤔 It depends",
    "unproven": "❔ Unproven",
}
EVIDENCE_LABELS = {
    "strong": "Strong: consistent results from good studies",
    "moderate": "Moderate: several studies, some limits",
    "limited": "Limited: few or small studies",
    "expert opinion": "Expert opinion: reasoning and anatomy, little direct research",
}
MAX_AUTHORS_SHOWN = 3
SHORT_TITLE_MAX = 50
# Trailing parts of "Garcia O Jr" that are not the surname: initials and suffixes.
_NOT_SURNAME = re.compile(r"^(?:[A-Z]{1,3}|(?:[A-Z]\.)+|Jr\.?|Sr\.?|II|III|IV)$")


@dataclass(frozen=True)
class SourceView:
    id: str
    citation: str
    link: str | None
    short: str = ""

    def to_dict(self) -> dict[str, str | None]:
        return {"id": self.id, "citation": self.citation, "short": self.short or self.citation, "link": self.link}


@dataclass(frozen=True)
class EntryView:
    id: str
    kind: str
    title: str
    body: str
    evidence: str
    evidence_label: str
    verdict: str | None = None
    verdict_label: str | None = None
    more: str | None = None
    safety: str | None = None
    sources: tuple[SourceView, ...] = ()
    related: tuple[tuple[str, str], ...] = ()
    exercise: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "id": self.id, "kind": self.kind, "title": self.title, "verdict": self.verdict,
            "evidence": self.evidence, "answer": self.body, "more": self.more, "safety": self.safety,
            "sources": [s.to_dict() for s in self.sources],
            "related": [{"id": rid, "title": title} for rid, title in self.related],
        }
        if self.kind == "exercise":
            data.update({key: list(values) for key, values in self.exercise.items()})
        return data


def short_authors(authors: str | None) -> str | None:
    if not authors:
        return None
    names = [name.strip() for name in authors.split(",") if name.strip()]
    return ", ".join(names[:MAX_AUTHORS_SHOWN]) + (" et al." if len(names) > MAX_AUTHORS_SHOWN else "")


def _surname(name: str) -> str:
    words = name.split()
    while len(words) > 1 and _NOT_SURNAME.match(words[-1]):
        words.pop()
    return " ".join(words)


def cited_authors(authors: str | None) -> str | None:
    """'Vispute SS, Smith JD, LeCheminant JD' -> 'Vispute et al.'; two authors -> 'Vispute & Smith'."""
    names = [name.strip() for name in (authors or "").split(",") if name.strip()]
    et_al = any(name.rstrip(".").casefold() == "et al" for name in names)
    surnames = [_surname(name) for name in names if name.rstrip(".").casefold() != "et al"]
    if not surnames:
        return None
    if et_al or len(surnames) > 2:
        return f"{surnames[0]} et al."
    return " & ".join(surnames)


def _short_title(title: str) -> str:
    title = re.sub(r"\s*\([^)]*\)", "", title).rstrip(".")
    if len(title) <= SHORT_TITLE_MAX:
        return f"“{title}”"
    return f"“{title[:SHORT_TITLE_MAX].rsplit(' ', 1)[0].rstrip(',:;')}…”"


def _words(*parts: str | None) -> str:
    return " ".join(part for part in parts if part)


def short_citation(source: Source) -> str:
    """What members read under an answer: 'Plotkin et al. 2023, Front Physiol'."""
    who = source.short_author or cited_authors(source.authors)
    year = str(source.year) if source.year else None
    where = source.journal_abbrev or source.journal
    if who:
        return f"{_words(who, year)}, {where or _short_title(source.title)}"
    title_year = _words(_short_title(source.title), year)  # no author: the title names the work
    return f"{title_year}, {where}" if where else title_year


def full_citation(source: Source) -> str:
    head = short_authors(source.authors)
    year = f" ({source.year})" if source.year else ""
    journal = f" {source.journal}." if source.journal else ""
    return f"{head}{year}. {source.title.rstrip('.')}.{journal}" if head else f"{source.title}{year}.{journal}"


def source_views(kb: KnowledgeBase, entry: Entry) -> tuple[SourceView, ...]:
    views = [SourceView(s.id, full_citation(s), s.link, short_citation(s)) for s in kb.sources_of(entry)]
    views.extend(SourceView(link, link, link, link) for link in entry.links)
    return tuple(views)


def entry_view(kb: KnowledgeBase, entry: Entry) -> EntryView:
    related = tuple((r.id, r.title) for r in kb.related_of(entry) if not r.retired)
    view = EntryView(id=entry.id, kind=entry.kind, title=entry.title, body="", evidence=entry.evidence,
                     evidence_label=EVIDENCE_LABELS[entry.evidence], safety=entry.safety,
                     sources=source_views(kb, entry), related=related)
    if isinstance(entry, MythEntry):
        return replace(view, body=entry.answer, more=entry.more, verdict=entry.verdict,
                       verdict_label=VERDICT_LABELS[entry.verdict])
    details = {
        "muscles": tuple(entry.muscles), "secondary_muscles": tuple(entry.secondary_muscles),
        "equipment": tuple(entry.equipment), "steps": tuple(entry.steps), "cues": tuple(entry.cues),
        "mistakes": tuple(entry.mistakes), "easier": tuple(entry.easier), "harder": tuple(entry.harder),
    }
    return replace(view, body=entry.summary, more=entry.evidence_summary, exercise=details)


def _plain(text: str) -> str:
    """Discord markdown a terminal would show literally: bold and italic markers."""
    return text.replace("**", "").replace("__", "")


def as_text(view: EntryView) -> str:
    """A plain-text rendering for terminals."""
    lines = [view.title.upper()]
    if view.verdict_label:
        lines.append(f"Verdict: {view.verdict_label}")
    lines += ["", _plain(view.body), ""]
    if view.safety:
        lines += [f"⚠️ SAFETY: {view.safety}", ""]
    if view.kind == "exercise":
        for key, label in (("muscles", "Trains"), ("secondary_muscles", "Also"), ("equipment", "Equipment")):
            if view.exercise.get(key):
                lines.append(f"{label}: {', '.join(view.exercise[key])}")
        for key, label in (("steps", "How to"), ("cues", "Cues"), ("mistakes", "Common mistakes"),
                           ("easier", "Easier"), ("harder", "Harder")):
            if view.exercise.get(key):
                lines.append(f"{label}:")
                lines += [f"  {i}. {item}" if key == "steps" else f"  - {item}"
                          for i, item in enumerate(view.exercise[key], 1)]
        lines += ["", f"What the evidence says: {_plain(view.more or '')}", ""]
    lines.append(f"Evidence: {view.evidence_label}")
    if view.sources:
        lines.append("Sources:")
        lines += [f"  - {s.short or s.citation}" + (f": {s.link}" if s.link and s.link != s.short else "")
                  for s in view.sources]
    if view.related:
        lines.append("Related: " + ", ".join(title for _, title in view.related))
    return "\n".join(lines)
