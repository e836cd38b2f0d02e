"""Load and validate knowledge files into an immutable `KnowledgeBase`.

Validation collects every problem it can find (YAML errors, schema errors, duplicate ids, unknown
source and related ids, grades stronger than the cited study designs allow, missing safety notes,
phrasings shared by two entries) so a curator fixes them all in one pass.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from bot.engine.normalize import normalize
from bot.engine.schema import (
    GRADE_NEEDS,
    GRADES_WEAKEST_FIRST,
    SAFETY_TAGS,
    Entry,
    ExerciseEntry,
    KnowledgeFile,
    MythEntry,
    OutOfScope,
    Source,
    strongest_grade,
)
from bot.engine.yamlsafe import ParsedYaml, Problem, YamlRefused, parse_yaml, read_limited

YAML_SUFFIXES = (".yaml", ".yml")


class KnowledgeError(Exception):
    """Raised when knowledge cannot be loaded; carries every problem found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(map(str, self.problems)))


@dataclass(frozen=True)
class Origin:
    file: str
    line: int


@dataclass(frozen=True)
class ParsedFile:
    name: str
    content: KnowledgeFile | None
    yaml: ParsedYaml | None
    problems: tuple[Problem, ...]

    def origin(self, *path: str | int) -> Origin:
        return Origin(self.name, self.yaml.line_of(path) if self.yaml else 1)


@dataclass(frozen=True)
class KnowledgeBase:
    """Validated entries and sources. Never mutated: an edit produces a new base."""

    entries: Mapping[str, Entry] = field(default_factory=lambda: MappingProxyType({}))
    sources: Mapping[str, Source] = field(default_factory=lambda: MappingProxyType({}))
    origins: Mapping[str, Origin] = field(default_factory=lambda: MappingProxyType({}))
    out_of_scope: Mapping[str, OutOfScope] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def myths(self) -> tuple[MythEntry, ...]:
        return tuple(e for e in self.entries.values() if isinstance(e, MythEntry))

    @property
    def exercises(self) -> tuple[ExerciseEntry, ...]:
        return tuple(e for e in self.entries.values() if isinstance(e, ExerciseEntry))

    def sources_of(self, entry: Entry) -> tuple[Source, ...]:
        return tuple(self.sources[sid] for sid in entry.sources if sid in self.sources)

    def related_of(self, entry: Entry) -> tuple[Entry, ...]:
        return tuple(self.entries[rid] for rid in entry.related if rid in self.entries)


def _field_path(loc: tuple[str | int, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _describe(error: ErrorDetails, data: object) -> str:
    loc = tuple(error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        message = "missing required field"
    elif error["type"] == "extra_forbidden":
        message = "unknown field (check the spelling against knowledge/schema.json)"
    if len(loc) >= 2 and isinstance(data, dict) and isinstance(loc[1], int):
        items = data.get(loc[0])
        item = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            kind = {"myths": "myth", "exercises": "exercise", "sources": "source"}.get(str(loc[0]), "entry")
            rest = _field_path(loc[2:])
            return f"{kind} {item['id']!r}" + (f", field '{rest}'" if rest else "") + f": {message}"
    return f"field '{_field_path(loc)}': {message}" if loc else message


def parse_text(text: str | bytes, name: str, model: type[KnowledgeFile] = KnowledgeFile) -> ParsedFile:
    """Parse and schema-check one file given as text; never raises for bad content.

    `model` is the file's shape: a curated knowledge file, or a subclass such as a server's own file."""
    try:
        parsed = parse_yaml(text)
    except YamlRefused as refusal:
        return ParsedFile(name, None, None, (Problem(name, refusal.line, refusal.message),))
    except UnicodeDecodeError:
        return ParsedFile(name, None, None, (Problem(name, 1, "file is not valid UTF-8 text"),))
    if parsed.data is None:
        return ParsedFile(name, model(), parsed, ())
    if not isinstance(parsed.data, dict):
        problem = Problem(name, 1, f"expected a mapping with {_top_keys(model)} at the top")
        return ParsedFile(name, None, parsed, (problem,))
    try:
        content = model.model_validate(parsed.data)
    except ValidationError as exc:
        problems = tuple(
            Problem(name, parsed.line_of(tuple(err["loc"])), _describe(err, parsed.data))
            for err in exc.errors(include_url=False)
        )
        return ParsedFile(name, None, parsed, problems)
    return ParsedFile(name, content, parsed, ())


def _top_keys(model: type[KnowledgeFile]) -> str:
    """The sections a file of this shape may have, as a person would list them."""
    keys = [f"'{key}'" for key in ("myths", "exercises", *sorted(set(model.model_fields) - {"myths", "exercises"}))
            if key != "out_of_scope"]
    return f"{', '.join(keys[:-1])} or {keys[-1]}"


def parse_file(path: Path, display: str | None = None) -> ParsedFile:
    name = display or str(path)
    try:
        raw = read_limited(path)
    except YamlRefused as refusal:
        return ParsedFile(name, None, None, (Problem(name, refusal.line, refusal.message),))
    except OSError as exc:
        return ParsedFile(name, None, None, (Problem(name, 1, f"cannot read file: {exc.strerror or exc}"),))
    return parse_text(raw, name)


def knowledge_files(paths: Iterable[Path]) -> list[Path]:
    """Every YAML file under the given files and directories, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file()))
        else:
            found.append(path)
    return found


class _Assembler:
    """Cross-file checks: unique ids, known sources and related ids, unshared phrasings."""

    def __init__(self, base: KnowledgeBase | None) -> None:
        self.base = base or KnowledgeBase()
        self.entries: dict[str, Entry] = {}
        self.sources: dict[str, Source] = {}
        self.origins: dict[str, Origin] = {}
        self.source_origins: dict[str, Origin] = {}
        self.problems: list[Problem] = []
        self.placed: list[tuple[ParsedFile, str, int, Entry]] = []
        self.out_of_scope: dict[str, OutOfScope] = {}
        self.placed_topics: list[tuple[ParsedFile, int, OutOfScope]] = []

    def add_file(self, parsed: ParsedFile) -> None:
        self.problems.extend(parsed.problems)
        if parsed.content is None:
            return
        for i, source in enumerate(parsed.content.sources):
            self._add_source(parsed, i, source)
        for section in ("myths", "exercises"):
            for i, entry in enumerate(getattr(parsed.content, section)):
                self._add_entry(parsed, section, i, entry)
        for i, topic in enumerate(parsed.content.out_of_scope):
            if topic.id in self.out_of_scope or topic.id in self.base.out_of_scope:
                where = parsed.origin("out_of_scope", i, "id")
                self.problems.append(Problem(where.file, where.line, f"duplicate out-of-scope id {topic.id!r}"))
                continue
            self.out_of_scope[topic.id] = topic
            self.placed_topics.append((parsed, i, topic))

    def _add_source(self, parsed: ParsedFile, i: int, source: Source) -> None:
        where = parsed.origin("sources", i, "id")
        first = self.source_origins.get(source.id)
        if first or source.id in self.base.sources:
            at = f" (first at {first.file}:{first.line})" if first else " (already in the curated bibliography)"
            self.problems.append(Problem(where.file, where.line, f"duplicate source id {source.id!r}{at}"))
            return
        self.sources[source.id] = source
        self.source_origins[source.id] = where

    def _add_entry(self, parsed: ParsedFile, section: str, i: int, entry: Entry) -> None:
        where = parsed.origin(section, i, "id")
        first = self.origins.get(entry.id) or self.base.origins.get(entry.id)
        if first or entry.id in self.base.entries:
            at = f" (first at {first.file}:{first.line})" if first else ""
            self.problems.append(Problem(where.file, where.line, f"duplicate id {entry.id!r}{at}"))
            return
        self.entries[entry.id] = entry
        self.origins[entry.id] = where
        self.placed.append((parsed, section, i, entry))

    def check_references(self) -> None:
        known_sources = {**self.base.sources, **self.sources}
        known_entries = {**self.base.entries, **self.entries}
        for parsed, section, i, entry in self.placed:
            for j, sid in enumerate(entry.sources):
                if sid not in known_sources:
                    at = parsed.origin(section, i, "sources", j)
                    self.problems.append(Problem(at.file, at.line, f"{entry.kind} {entry.id!r}: unknown source "
                                                 f"id {sid!r} (add it to knowledge/sources.yaml first)"))
            for j, rid in enumerate(entry.related):
                if rid not in known_entries:
                    at = parsed.origin(section, i, "related", j)
                    self.problems.append(Problem(at.file, at.line,
                                                 f"{entry.kind} {entry.id!r}: unknown related id {rid!r}"))
                elif rid == entry.id:
                    at = parsed.origin(section, i, "related", j)
                    self.problems.append(Problem(at.file, at.line, f"{entry.kind} {entry.id!r}: relates to itself"))

    def check_grades(self) -> None:
        """An entry's grade may be no stronger than the designs of its bibliography sources can carry."""
        known_sources = {**self.base.sources, **self.sources}
        for parsed, section, i, entry in self.placed:
            designs = [known_sources[sid].counts_as for sid in entry.sources if sid in known_sources]
            if not designs:  # only free links (moderator entries), or unknown ids reported elsewhere
                continue
            ceiling = strongest_grade(designs)
            if GRADES_WEAKEST_FIRST.index(entry.evidence) > GRADES_WEAKEST_FIRST.index(ceiling):
                cited = ", ".join(f"{n} {design}" for design, n in sorted(Counter(designs).items()))
                at = parsed.origin(section, i, "evidence")
                self.problems.append(Problem(at.file, at.line, (
                    f"{entry.kind} {entry.id!r}: evidence {entry.evidence!r} is stronger than its sources can carry "
                    f"({cited}: at most {ceiling!r}); {entry.evidence!r} needs {GRADE_NEEDS[entry.evidence]}")))

    def check_safety_notes(self) -> None:
        for parsed, section, i, entry in self.placed:
            if entry.safety:
                continue
            risky = [(j, tag) for j, tag in enumerate(entry.tags) if tag.casefold() in SAFETY_TAGS]
            if risky:
                j, tag = risky[0]
                at = parsed.origin(section, i, "tags", j)
                self.problems.append(Problem(at.file, at.line, (
                    f"{entry.kind} {entry.id!r}: tagged {tag!r}, so it needs a 'safety' note "
                    "(when to see a clinician, which symptoms are an emergency)")))

    def check_shared_phrasings(self) -> None:
        owner: dict[str, str] = {}
        for entry in self.base.entries.values():
            for text in (*entry.questions, *entry.aliases):
                owner.setdefault(normalize(text), entry.id)
        for parsed, section, i, entry in self.placed:
            for field_name in ("questions", "aliases"):
                for j, text in enumerate(getattr(entry, field_name)):
                    key = normalize(text)
                    other = owner.setdefault(key, entry.id)
                    if key and other != entry.id:
                        at = parsed.origin(section, i, field_name, j)
                        self.problems.append(Problem(
                            at.file, at.line,
                            f"{entry.kind} {entry.id!r}: {field_name[:-1]} {text!r} reads the same as one of "
                            f"{other!r} after normalising; give it to one entry only"))
        for parsed, i, topic in self.placed_topics:
            for j, text in enumerate(topic.questions):
                answered_by = owner.get(normalize(text))
                if answered_by is not None:
                    at = parsed.origin("out_of_scope", i, "questions", j)
                    message = (f"out-of-scope topic {topic.id!r}: question {text!r} reads the same as one of "
                               f"{answered_by!r}, which answers it")
                    self.problems.append(Problem(at.file, at.line, message))

    def result(self) -> KnowledgeBase:
        return KnowledgeBase(
            entries=MappingProxyType({**self.base.entries, **self.entries}),
            sources=MappingProxyType({**self.base.sources, **self.sources}),
            origins=MappingProxyType({**self.base.origins, **self.origins}),
            out_of_scope=MappingProxyType({**self.base.out_of_scope, **self.out_of_scope}),
        )


def assemble(files: Iterable[ParsedFile], base: KnowledgeBase | None = None) -> tuple[KnowledgeBase, list[Problem]]:
    """Combine parsed files (on top of `base`, if given) and run the cross-file checks."""
    assembler = _Assembler(base)
    for parsed in files:
        assembler.add_file(parsed)
    assembler.check_references()
    assembler.check_grades()
    assembler.check_safety_notes()
    assembler.check_shared_phrasings()
    return assembler.result(), assembler.problems


def _display(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return str(path.relative_to(root.parent))
        except ValueError:
            pass
    return str(path)


def validate_paths(paths: Iterable[Path], base: KnowledgeBase | None = None) -> tuple[KnowledgeBase, list[Problem]]:
    """Parse and check every YAML file under `paths`; returns what loaded and every problem."""
    paths = list(paths)
    files = knowledge_files(paths)
    root = paths[0] if len(paths) == 1 and paths[0].is_dir() else None
    problems = [Problem(str(p), 1, "no such file or directory") for p in paths if not p.exists()]
    kb, found = assemble((parse_file(p, _display(p, root)) for p in files if p.exists()), base)
    return kb, problems + found


def load_knowledge(directory: Path) -> KnowledgeBase:
    """Load a knowledge dir, raising `KnowledgeError` with every problem if anything is wrong."""
    if not directory.is_dir():
        raise KnowledgeError([Problem(str(directory), 1, "knowledge directory not found")])
    kb, problems = validate_paths([directory])
    if problems:
        raise KnowledgeError(problems)
    return kb
