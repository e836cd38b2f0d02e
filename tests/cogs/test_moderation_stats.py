"""/faq stats through the real discord.py client: the figures a moderator reads are those stored, and the
picture attached to them is a 1200x900 PNG."""

import re
import struct
from datetime import UTC, date, datetime, timedelta

from tests.cogs.conftest import EPHEMERAL, answered_in_full, slash

OTHER_GUILD = 222
DAYS = 3
# (days before today, status, entry, how many): two days in the window, one day before it.
DECISIONS = [
    (0, "answer", "spot-reduction", 3),
    (0, "none", None, 2),
    (1, "answer", "squats-hip-dips", 2),
    (1, "clarify", None, 1),
    (2, "answer", "spot-reduction", 1),
    (DAYS, "answer", "squats-hip-dips", 7),  # the day before a window that ends today
]
# (days before today, message, member, entry, helpful)
VOTES = [
    (0, 1, 70, "spot-reduction", True),
    (0, 1, 71, "spot-reduction", False),
    (1, 2, 70, "squats-hip-dips", True),
    (DAYS, 3, 72, "squats-hip-dips", False),
]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def time(self) -> float:
        return self.now


def noon(days_ago: int, today: date) -> float:
    day = today - timedelta(days=days_ago)
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp()


async def seed(records, guild_id, monkeypatch, today):
    """The records land on the planned days; another server's never count here."""
    clock = Clock()
    monkeypatch.setattr("bot.storage.records.time", clock)
    try:
        for days_ago, status, entry_id, count in DECISIONS:
            clock.now = noon(days_ago, today)
            for _ in range(count):
                await records.record_decision(guild_id, 1, status, entry_id, 80.0)
            await records.record_decision(OTHER_GUILD, 1, status, entry_id, 80.0)
        for days_ago, message_id, member_id, entry_id, helpful in VOTES:
            clock.now = noon(days_ago, today)
            await records.record_feedback(guild_id, message_id, member_id, entry_id=entry_id, helpful=helpful)
            await records.record_feedback(OTHER_GUILD, message_id, member_id, entry_id=entry_id, helpful=helpful)
    finally:
        monkeypatch.undo()


def expected(first: date, last: date, today: date, asked_live: int) -> tuple[dict[str, int], tuple[int, int]]:
    """What the records say for the window the reply names (a test running over midnight still agrees)."""
    def inside(days_ago: int) -> bool:
        return first <= today - timedelta(days=days_ago) <= last

    counts = {"answer": asked_live, "clarify": 0, "none": 0}
    for days_ago, status, _, count in DECISIONS:
        counts[status] += count if inside(days_ago) else 0
    votes = [helpful for days_ago, _, _, _, helpful in VOTES if inside(days_ago)]
    return counts, (votes.count(True), votes.count(False))


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


async def test_stats_text_matches_the_records_and_the_picture_is_a_png(fake_discord, faq_bot, guild_id,
                                                                      role_moderator, monkeypatch):
    today = datetime.now(UTC).date()
    await seed(faq_bot.records, guild_id, monkeypatch, today)
    general, member = fake_discord.guild.channel("general"), fake_discord.make_member("dee")
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, member, f"<@{fake_discord.bot_user.id}> does spot reduction work")
    await fake_discord.wait_for_message(general.id, since=mark)
    await faq_bot.workers.drain()  # the live question's decision is written in the background

    callback, sent = await answered_in_full(await slash(fake_discord, "stats", {"days": DAYS}, user=role_moderator))
    assert callback.ephemeral and sent["flags"] & EPHEMERAL
    text = sent["content"]
    first, last = (date.fromisoformat(day) for day in re.search(r"\((\S+) to (\S+), UTC\)", text).groups())
    assert (last - first).days == DAYS - 1 and last >= today
    counts, (helpful, not_helpful) = expected(first, last, today, asked_live=1)
    total = sum(counts.values())
    assert (f"Questions: {total}. Answered {counts['answer']} ({round(100 * counts['answer'] / total)}%), "
            f"asked which one {counts['clarify']}, unanswered {counts['none']}.") in text
    assert f"Votes: {helpful} helpful, {not_helpful} not helpful." in text
    assert "1. Can you burn fat from one spot?: 5" in text  # three seeded today, one the day before, one live
    assert len(text) <= 2000

    [attachment] = sent["attachments"]
    assert attachment["filename"] == f"stats-{guild_id}-{last.isoformat()}.png"
    [upload] = [call for call in fake_discord.calls_to("POST", "/webhooks/{app}/{token}") if call.files]
    [picture] = upload.files
    assert picture.filename == attachment["filename"] and png_size(picture.data) == (1200, 900)


async def test_stats_of_a_quiet_server_says_so(fake_discord, faq_bot, role_moderator):
    _, sent = await answered_in_full(await slash(fake_discord, "stats", user=role_moderator))
    assert "No questions yet in this window." in sent["content"] and "No votes yet." in sent["content"]
