"""Embeddings cached on disk by content hash, so a text is embedded once per model, ever.

A restart, a reload of the curated knowledge or a moderator's new entry embeds only the texts it has
never seen. The cache is one SQLite file (`<data dir>/cache/embeddings.sqlite3`); a cache that cannot
be opened or written is logged once and the embedder simply works without it.
"""

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.engine.matcher import Embeds

log = logging.getLogger(__name__)

_SCHEMA = "CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)"
_LOOKUP_BATCH = 500


def text_key(model_id: str, text: str) -> bytes:
    return hashlib.sha256(f"{model_id}\x00{text}".encode("utf-8", "surrogatepass")).digest()


class CachedEmbedder:
    """An embedder that reads and writes its vectors through a SQLite cache.

    For knowledge texts only: members' questions go to `uncached`, so they are never written to disk."""

    def __init__(self, embedder: Embeds, path: Path, model_id: str, dimensions: int = 384) -> None:
        self.embedder = self.uncached = embedder
        self.model_id = model_id
        self.dimensions = dimensions
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=2)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            log.warning("embedding cache %s unavailable (%s); embedding without it", path, exc)
            self._db = None

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        keys = [text_key(self.model_id, text) for text in texts]
        found = self._lookup(set(keys))
        missing = [i for i, key in enumerate(keys) if key not in found]
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if missing:
            fresh = self.embedder.embed([texts[i] for i in missing])
            for row, i in enumerate(missing):
                out[i] = fresh[row]
            self._store({keys[i]: fresh[row] for row, i in enumerate(missing)})
        for i, key in enumerate(keys):
            if key in found:
                out[i] = found[key]
        return out

    def _lookup(self, keys: set[bytes]) -> dict[bytes, np.ndarray]:
        if self._db is None or not keys:
            return {}
        wanted = list(keys)
        found: dict[bytes, np.ndarray] = {}
        try:
            with self._lock:
                for start in range(0, len(wanted), _LOOKUP_BATCH):
                    batch = wanted[start : start + _LOOKUP_BATCH]
                    marks = ",".join("?" * len(batch))  # placeholders only; the keys are bound parameters
                    rows = self._db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})",  # noqa: S608
                                            batch).fetchall()
                    for key, blob in rows:
                        vector = np.frombuffer(blob, dtype=np.float32)
                        if vector.shape == (self.dimensions,):
                            found[key] = vector
        except sqlite3.Error as exc:
            log.warning("embedding cache read failed (%s); embedding those texts again", exc)
        return found

    def _store(self, vectors: dict[bytes, np.ndarray]) -> None:
        if self._db is None:
            return
        rows = [(key, np.asarray(vector, dtype=np.float32).tobytes()) for key, vector in vectors.items()]
        try:
            with self._lock:
                self._db.execute("BEGIN")
                self._db.executemany("INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)", rows)
                self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            log.warning("embedding cache write failed (%s); it will be retried next time", exc)
            try:
                with self._lock:
                    self._db.execute("ROLLBACK")
            except sqlite3.Error:
                pass

    def close(self) -> None:
        if self._db is not None:
            with self._lock:
                self._db.close()
            self._db = None
