"""Every saved version of a guild's entries, one JSON object per line in `<guild_id>.history.jsonl`.

Append-only and written after the guild file: if the process dies in between, the newest version is
missing here and `history()` shows it from the guild file instead, so nothing a reader sees is wrong.
A line that does not parse (a torn write, a hand edit) is skipped with a warning.
"""

import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from bot.engine.schema import Entry

SUFFIX = ".history.jsonl"
log = logging.getLogger(__name__)
_ENTRY: TypeAdapter[Entry] = TypeAdapter(Entry)


def line_of(entry: Entry) -> str:
    return json.dumps(entry.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":")) + "\n"


def append(path: Path, entries: Iterable[Entry]) -> None:
    """Append each entry as a line and flush it to disk; nothing to append writes nothing."""
    text = "".join(line_of(entry) for entry in entries)
    if not text:
        return
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def read_all(path: Path) -> list[Entry]:
    """Every version in the file, oldest first; a missing file is an empty history."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    versions = []
    for number, line in enumerate(lines, 1):
        try:
            versions.append(_ENTRY.validate_python(json.loads(line)))
        except (ValueError, ValidationError) as exc:
            log.warning("%s:%d: skipping a history line that does not load (%s)", path, number,
                        str(exc).splitlines()[0])
    return versions


def versions(path: Path, entry_id: str) -> list[Entry]:
    """The saved versions of one entry, oldest first."""
    return [entry for entry in read_all(path) if entry.id == entry_id]
