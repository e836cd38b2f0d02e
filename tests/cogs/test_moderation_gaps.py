"""H1, the moderators' side: `/faq gaps` works in the report pool with capped work, so however many
questions members seeded and however often moderators ask for the report, members keep being answered
and the other `/faq` commands keep working."""

import asyncio
import os
import random
import threading

import pytest

import bot.faq.service
from bot.faq.service import GAP_RECHECK
from tests.cogs.conftest import CHANNEL_MESSAGE, DEFERRED, slash
from tests.cogs.test_moderation_records import ask_in_general

SYLLABLES = ("ka", "lo", "mi", "ne", "su", "tar", "vo", "zen", "qui", "dro", "fex", "gul")
# asyncio's default executor has this many threads (ThreadPoolExecutor's default): the shared pool
# that `asyncio.to_thread` work competes for.
DEFAULT_POOL_THREADS = min(32, (os.cpu_count() or 1) + 4)


def seeded_questions(count: int, seed: int = 12) -> list[str]:
    """Long questions of made-up words, as a member seeding the report would send them."""
    rng = random.Random(seed)
    word = lambda: "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))  # noqa: E731
    return [" ".join(word() for _ in range(30)) for _ in range(count)]


@pytest.fixture
async def blocked_grouping(monkeypatch, faq_bot):
    """Grouping waits until the test releases it: a report that takes as long as the test needs."""
    loop = asyncio.get_running_loop()
    started, release, grouped = asyncio.Event(), threading.Event(), []
    real = bot.faq.service.group_gaps

    def group_gaps(asked, **options):
        asked = list(asked)
        grouped.append({item.question for item in asked})
        loop.call_soon_threadsafe(started.set)
        release.wait(timeout=30)
        return real(asked, **options)

    monkeypatch.setattr(bot.faq.service, "group_gaps", group_gaps)
    yield started, release, grouped
    release.set()


async def test_members_and_moderators_are_served_while_gap_reports_run(fake_discord, faq_bot, guild_id,
                                                                        role_moderator, moderator, regular,
                                                                        blocked_grouping):
    started, release, grouped = blocked_grouping
    seeded = seeded_questions(GAP_RECHECK + 100)
    for question in [*seeded, "is creatine safe?", "is creatine safe", "Is creatine safe for women"]:
        await faq_bot.records.record_unanswered(guild_id, 10, question)
    reports = [await slash(fake_discord, "gaps", user=role_moderator) for _ in range(DEFAULT_POOL_THREADS)]
    for report in reports:
        assert (await report.response()).type == DEFERRED
    async with asyncio.timeout(45):  # re-checking the questions with the semantic scorer comes first
        await started.wait()  # the report is running, and stays so until released
    answer = await ask_in_general(fake_discord, regular, "does spot reduction work")
    assert answer["embeds"][0]["title"] == "Can you burn fat from one spot?"
    listing = await slash(fake_discord, "list", user=moderator)
    assert (await listing.response()).type == CHANNEL_MESSAGE
    exporting = await slash(fake_discord, "export", user=moderator)
    assert "no entries of its own" in (await exporting.response()).content
    release.set()
    texts = [(await report.followup(0))["embeds"][0]["description"] for report in reports]
    assert len(set(texts)) == 1 and "**3×** is creatine safe" in texts[0]
    assert f"the {GAP_RECHECK} most asked of {len(seeded) + 2} different questions" in texts[0]
    assert len(grouped) == 1  # one report for all the impatient clicks
    assert len(grouped[0]) == GAP_RECHECK + 1  # "is creatine safe?" and "is creatine safe" are one question


PLANTED = ("**now** discord.gg/abc discord.com/invite/xyz https://ev.il/a HTTP://EV.IL/b <https://ev.il/c> "
           "[official NIH study](https://ev.il/d)")


async def test_links_members_planted_are_not_clickable_in_the_report(fake_discord, faq_bot, guild_id,
                                                                     role_moderator):
    await faq_bot.records.record_unanswered(guild_id, 10, PLANTED)
    await faq_bot.records.record_unanswered(guild_id, 10, PLANTED.replace("now", "today"))
    report = await slash(fake_discord, "gaps", user=role_moderator)
    await report.response()
    text = (await report.followup(0))["embeds"][0]["description"]
    assert "hxxps://ev.il/a" in text and "hxxp://EV.IL/b" in text and "(hxxps://ev.il/d)" in text
    assert "://" not in text.replace("hxxp://", "").replace("hxxps://", "")
    assert "discord.gg" not in text and "discord.com/invite" not in text and "discord[.]gg/abc" in text
    assert "\\[official NIH study\\](hxxps://ev.il/d)" in text and "\\*\\*now\\*\\*" in text  # shown as typed
