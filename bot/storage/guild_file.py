"""The per-guild YAML file: the curated schema plus the curated ids a guild hides.

```yaml
myths:
  - id: creatine-bloating
    title: Does creatine make you bloated?
    verdict: partly true
    evidence: moderate
    answer: Some people hold a little more water in the first week...
    questions: [does creatine make you bloated, creatine water retention]
    links: [https://doi.org/10.1186/s12970-021-00412-w]
    stewardship: {created_by: Ana (1234), created_at: 2025-01-01T10:00:00+00:00}
hidden: [squats-hip-dips]
trained:   # phrasings moderators taught, for curated entries or the server's own
  spot-reduction: [can i lose belly fat only]
```
"""

from collections.abc import Iterable
from typing import Annotated

import yaml
from pydantic import AfterValidator, Field

from bot.engine.knowledge import ParsedFile, parse_text
from bot.engine.schema import Entry, KnowledgeFile, Phrasing, Slug

MAX_TRAINED_ENTRIES = 2000
MAX_TRAINED_PER_ENTRY = 200


def _sorted_unique(ids: list[str]) -> list[str]:
    return sorted(set(ids))


def _canonical_trained(trained: dict[str, list[str]]) -> dict[str, list[str]]:
    """Sorted ids, each with its phrasings sorted and unique, none empty: one spelling for equal content."""
    return {entry_id: sorted(set(trained[entry_id])) for entry_id in sorted(trained) if trained[entry_id]}


TrainedPhrasings = Annotated[
    dict[Slug, Annotated[list[Phrasing], Field(max_length=MAX_TRAINED_PER_ENTRY)]],
    Field(default_factory=dict, max_length=MAX_TRAINED_ENTRIES),
    AfterValidator(_canonical_trained),
]


class GuildFile(KnowledgeFile):
    """One guild's file: its own entries (never deleted, only retired), the curated ids it hides, and
    the phrasings its moderators taught for any entry."""

    hidden: Annotated[list[Slug], Field(default_factory=list, max_length=2000), AfterValidator(_sorted_unique)]
    trained: TrainedPhrasings

    @property
    def entries(self) -> tuple[Entry, ...]:
        return (*self.myths, *self.exercises)


GUILD_HEADER = (
    "# Mythbot moderator entries for one Discord server, written by the bot (/faq add, edit, remove).\n"
    "# Hand edits are allowed but are checked on start; a broken file makes the bot serve the newest\n"
    "# valid backup beside it (.1 is the newest) and log what is wrong.\n"
)
EXPORT_HEADER = (
    "# yaml-language-server: $schema=../schema.json\n"
    "# Exported from a Discord server with /faq export. Review the answers and sources, then propose\n"
    "# them for knowledge/ in a pull request (run `mythbot validate` first).\n"
)

# Readers see what an entry says before the lists that make it match.
_FIRST_KEYS = ("id", "title", "verdict", "evidence", "answer", "more", "summary")


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent list items under their key, as the curated files do.
        super().increase_indent(flow, False)


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def _entry_data(entry: Entry) -> dict:
    data = entry.model_dump(mode="json", exclude_defaults=True)
    ordered = {key: data.pop(key) for key in _FIRST_KEYS if key in data}
    return ordered | data


def to_yaml(content: KnowledgeFile, header: str = "") -> str:
    """YAML text for a knowledge or guild file, in the curated files' layout."""
    data: dict = {}
    if content.sources:
        data["sources"] = [source.model_dump(mode="json", exclude_defaults=True) for source in content.sources]
    if content.myths:
        data["myths"] = [_entry_data(entry) for entry in content.myths]
    if content.exercises:
        data["exercises"] = [_entry_data(entry) for entry in content.exercises]
    if isinstance(content, GuildFile) and content.hidden:
        data["hidden"] = list(content.hidden)
    if isinstance(content, GuildFile) and content.trained:
        data["trained"] = {entry_id: list(texts) for entry_id, texts in content.trained.items()}
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100) if data else "{}\n"
    return header + body


def parse_guild_text(text: str | bytes, name: str) -> ParsedFile:
    """Parse and schema-check a guild file; `content` is a `GuildFile`, or None with problems."""
    return parse_text(text, name, model=GuildFile)


def export_file(content: GuildFile) -> KnowledgeFile:
    """The guild's live entries as a plain knowledge file (no hidden ids, nothing retired)."""
    return KnowledgeFile(
        sources=content.sources,
        myths=[entry for entry in content.myths if not entry.retired],
        exercises=[entry for entry in content.exercises if not entry.retired],
    )


def with_entry(content: GuildFile, entry: Entry) -> GuildFile:
    """A copy of `content` with `entry` replacing the one with its id, or appended."""
    section = "myths" if entry.kind == "myth" else "exercises"
    current = list(getattr(content, section))
    for i, existing in enumerate(current):
        if existing.id == entry.id:
            current[i] = entry
            break
    else:
        current.append(entry)
    return content.model_copy(update={section: current})


def with_hidden(content: GuildFile, hidden: Iterable[str]) -> GuildFile:
    return content.model_copy(update={"hidden": sorted(set(hidden))})


def with_trained(content: GuildFile, trained: dict[str, list[str]]) -> GuildFile:
    return content.model_copy(update={"trained": _canonical_trained(trained)})
