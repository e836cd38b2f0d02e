"""Build the engine a deployment asks for: curated knowledge, plus the semantic scorer when it can run.

With unchanged knowledge a restart loads a snapshot of the built engine from the cache dir instead of
parsing, validating and indexing again (see bot/engine/snapshot.py)."""

import logging
from functools import cache
from pathlib import Path

from bot.engine import snapshot
from bot.engine.engine import Engine
from bot.engine.knowledge import KnowledgeBase, load_knowledge
from bot.engine.matcher import Embeds
from bot.settings import Settings

log = logging.getLogger("mythbot")


@cache
def _embedder(cache_dir: str) -> Embeds | None:
    from bot.engine.embeddings import load_embedder

    embedder, why_not = load_embedder(Path(cache_dir))
    if embedder is None:
        log.warning("semantic matching is off (%s); answering with fuzzy matching only", why_not)
    return embedder


def build_engine(settings: Settings, kb: KnowledgeBase | None = None) -> Engine:
    """An engine over `kb` (default: the knowledge dir, raising `KnowledgeError` when it is broken)."""
    embedder = _embedder(str(settings.cache_dir)) if settings.semantic else None
    match = settings.match_settings(embedder is not None)
    if kb is not None:
        return Engine(kb, match, embedder)
    from bot.engine.embeddings import MODEL_ID

    key = snapshot.fingerprint(settings.knowledge_dir, MODEL_ID if embedder is not None else None)
    restored = snapshot.load(settings.cache_dir, key, embedder)
    if restored is not None:
        return Engine(restored[0], match, embedder, restored[1])
    engine = Engine(load_knowledge(settings.knowledge_dir), match, embedder)
    snapshot.save(engine.kb, engine.matcher.index, settings.cache_dir, key)
    return engine
