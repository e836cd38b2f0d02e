"""One server's figures read from storage: what `/faq stats` shows and `mythbot stats` prints, gathered in
one place. The counting and drawing are `bot.stats`'s (pure); this only reads the records of the window."""

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

from bot.engine.knowledge import KnowledgeBase
from bot.stats import SECONDS_PER_DAY, Stats, summarise
from bot.storage.base import GuildState, RecordStore

PNG_SIZE = (1200, 900)


def midnight(day: date) -> float:
    """The first second of a UTC day, as Unix time."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def entry_titles(base: KnowledgeBase, state: GuildState) -> dict[str, str]:
    """Every entry's title by id: the curated ones and the server's own (retired ones too, for old records)."""
    return {entry.id: entry.title for entry in base.entries.values()} | {
        entry_id: entry.title for entry_id, entry in state.entries.items()}


async def server_stats(records: RecordStore, guild_id: int, titles: Mapping[str, str], *, days: int,
                       until: date) -> Stats:
    """The figures of `days` UTC days ending with the day `until`."""
    since = midnight(until - timedelta(days=days - 1))
    decisions = await records.decisions(guild_id, since)
    votes = await records.votes(guild_id, since)
    return summarise(decisions, votes, days=days, now=midnight(until) + SECONDS_PER_DAY / 2, titles=titles)
