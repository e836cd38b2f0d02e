"""Build the engine a deployment asks for: curated knowledge, plus the semantic scorer when it can run."""

import logging
from functools import cache

from bot.engine.engine import Engine
from bot.engine.knowledge import KnowledgeBase, load_knowledge
from bot.engine.matcher import Embeds
from bot.settings import Settings

log = logging.getLogger("mythbot")


@cache
def _embedder(cache_dir: str) -> Embeds | None:
    from pathlib import Path

    from bot.engine.embeddings import load_embedder

    embedder, why_not = load_embedder(Path(cache_dir))
    if embedder is None:
        log.warning("semantic matching is off (%s); answering with fuzzy matching only", why_not)
    return embedder


def build_engine(settings: Settings, kb: KnowledgeBase | None = None) -> Engine:
    """An engine over `kb` (default: the knowledge dir, raising `KnowledgeError` when it is broken)."""
    kb = kb if kb is not None else load_knowledge(settings.knowledge_dir)
    embedder = _embedder(str(settings.cache_dir)) if settings.semantic else None
    return Engine(kb, settings.match_settings(embedder is not None), embedder)
