"""A built engine on disk, so a restart with unchanged knowledge skips parsing, validating and indexing.

A snapshot is keyed by a hash of the knowledge files' names and bytes, the engine's own source code
and the embedding model: change any of them and the next start rebuilds (and writes a new one). It is
plain data, never pickle: the knowledge as JSON (each entry validated again when first read, as any
input is), the index as numpy arrays read with `allow_pickle=False`. A missing, stale or damaged snapshot is ignored.
"""

import hashlib
import json
import logging
import os
import threading
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
from pydantic import TypeAdapter, ValidationError

from bot.engine.knowledge import KnowledgeBase, Origin, knowledge_files
from bot.engine.matcher import Embeds, PhrasingIndex
from bot.engine.schema import Entry, OutOfScope, Source

log = logging.getLogger(__name__)

FORMAT = 1
_ENTRY: TypeAdapter[Entry] = TypeAdapter(Entry)
_SOURCES = TypeAdapter(list[Source])
_TOPICS = TypeAdapter(list[OutOfScope])


@cache
def code_version() -> str:
    """A hash of the engine's source: a snapshot written by other code is never trusted."""
    digest = hashlib.sha256(str(FORMAT).encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def fingerprint(knowledge_dir: Path, model: str | None) -> str:
    digest = hashlib.sha256(f"{code_version()}\0{model}\0".encode())
    for path in knowledge_files([knowledge_dir]):
        digest.update(str(path.relative_to(knowledge_dir)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:32]


def _paths(directory: Path, key: str) -> tuple[Path, Path]:
    return directory / f"engine-{key}.json", directory / f"engine-{key}.npz"


# -- writing -------------------------------------------------------------------------------------------

def save(kb: KnowledgeBase, index: PhrasingIndex, directory: Path, key: str) -> None:
    """Write the snapshot atomically and drop older ones; failures are logged, never raised."""
    meta_path, arrays_path = _paths(directory, key)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _write_meta(meta_path, kb, index)
        _write_arrays(arrays_path, _arrays(index))
        for old in directory.glob("engine-*"):
            if old.name not in (meta_path.name, arrays_path.name):
                old.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("could not write the engine snapshot in %s: %s", directory, exc.strerror or exc)


def _write_meta(path: Path, kb: KnowledgeBase, index: PhrasingIndex) -> None:
    """The JSON half, written a piece at a time: dumping 10,000 entries at once would double the peak memory."""
    parts = {
        "entries": (entry.model_dump(mode="json") for entry in kb.entries.values()),
        "sources": (source.model_dump(mode="json") for source in kb.sources.values()),
        "out_of_scope": (topic.model_dump(mode="json") for topic in kb.out_of_scope.values()),
        "texts": iter(index.texts), "entry_ids": iter(index.entry_ids), "tokens": iter(index.postings),
        "vocabulary": iter(index.vocabulary), "frequency": (index.frequency[t] for t in index.vocabulary),
        "keywords": iter(index.keywords),
    }
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write('{"unseen_weight": ' + json.dumps(index.unseen_weight) + ', "origins": ')
        json.dump({key: [origin.file, origin.line] for key, origin in kb.origins.items()}, handle, ensure_ascii=False)
        for name, items in parts.items():
            handle.write(f', "{name}": [')
            for i, item in enumerate(items):
                handle.write(("," if i else "") + json.dumps(item, ensure_ascii=False))
            handle.write("]")
        handle.write("}")
    os.replace(temporary, path)


def _arrays(index: PhrasingIndex) -> dict[str, np.ndarray]:
    postings = [np.frombuffer(index.postings[t], dtype=np.int32) for t in index.postings]
    arrays = {
        "owners": index.owners, "starts": np.frombuffer(index._starts, dtype=np.int32),
        "ends": np.frombuffer(index._ends, dtype=np.int32),
        "posting_sizes": np.array([len(p) for p in postings], dtype=np.int64),
        "postings": np.concatenate(postings) if postings else np.zeros(0, np.int32),
    }
    if index.semantic:
        arrays["vectors"], arrays["documents"] = index.vectors()
    return arrays


def _write_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("wb") as handle:
        np.savez(handle, allow_pickle=False, **arrays)
    os.replace(temporary, path)


# -- reading -------------------------------------------------------------------------------------------

def load(directory: Path, key: str, embedder: Embeds | None) -> tuple[KnowledgeBase, PhrasingIndex] | None:
    """The knowledge and index saved under `key`, or None when there is no usable snapshot."""
    meta_path, arrays_path = _paths(directory, key)
    if not meta_path.is_file() or not arrays_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_bytes())
        with np.load(arrays_path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        return _knowledge(meta), _index(meta, arrays, embedder)
    except (OSError, ValueError, KeyError, TypeError, ValidationError) as exc:
        log.warning("ignoring the damaged engine snapshot %s (%s); rebuilding", meta_path, type(exc).__name__)
        return None


class _LazyEntries(Mapping[str, Entry]):
    """Entries validated when first read: a restart need not validate 10,000 entries to answer one."""

    def __init__(self, raw: list[dict[str, Any]]) -> None:
        self._raw = {item["id"]: item for item in raw}
        self._done: dict[str, Entry] = {}
        self._lock = threading.Lock()

    def __getitem__(self, entry_id: str) -> Entry:
        entry = self._done.get(entry_id)
        if entry is None:
            entry = _ENTRY.validate_python(self._raw[entry_id])
            with self._lock:
                self._done[entry_id] = entry
        return entry

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._raw


def _knowledge(meta: dict[str, Any]) -> KnowledgeBase:
    return KnowledgeBase(
        entries=_LazyEntries(meta["entries"]),
        sources=MappingProxyType({source.id: source for source in _SOURCES.validate_python(meta["sources"])}),
        origins=MappingProxyType({key: Origin(file, line) for key, (file, line) in meta["origins"].items()}),
        out_of_scope=MappingProxyType({t.id: t for t in _TOPICS.validate_python(meta["out_of_scope"])}),
    )


def _index(meta: dict[str, Any], arrays: dict[str, np.ndarray], embedder: Embeds | None) -> PhrasingIndex:
    semantic = embedder is not None
    if semantic != ("vectors" in arrays):
        raise ValueError("snapshot made with another scorer")
    index = PhrasingIndex((), meta["unseen_weight"], embedder)
    index.texts = meta["texts"]
    index.entry_ids = meta["entry_ids"]
    index.entry_position = {entry_id: i for i, entry_id in enumerate(index.entry_ids)}
    index._owners = array("i", arrays["owners"].astype(np.int32).tobytes())
    index._starts = array("i", arrays["starts"].astype(np.int32).tobytes())
    index._ends = array("i", arrays["ends"].astype(np.int32).tobytes())
    bounds = np.concatenate(([0], np.cumsum(arrays["posting_sizes"])))
    flat = arrays["postings"].astype(np.int32)
    index.postings = {token: flat[bounds[i]:bounds[i + 1]] for i, token in enumerate(meta["tokens"])}
    index._by_prefix = defaultdict(set)
    for token in meta["tokens"]:
        index._by_prefix[token[:4]].add(token)
    index.vocabulary = meta["vocabulary"]
    index.frequency = Counter(dict(zip(meta["vocabulary"], meta["frequency"], strict=True)))
    index.keywords = [(keyword, position) for keyword, position in meta["keywords"]]
    if semantic:
        index._vectors, index._documents = [arrays["vectors"]], [arrays["documents"]]
    if len(index._owners) != len(index.texts) or len(index._starts) != len(index.entry_ids):
        raise ValueError("snapshot arrays do not match its texts")
    return index
