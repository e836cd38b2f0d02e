"""MYTHBOT_DATABASE_URL: the real bot on PostgreSQL, against the Discord stand-in. Another process's change
reaches this one's copy (LISTEN/NOTIFY), members are answered with it, and nothing lands in the data dir."""

import asyncio

from bot.discord_app import create_bot
from bot.settings import load_settings
from bot.storage.factory import open_storage
from bot.storage.operations import add_entry_op
from tests.conftest import FIXTURE_KB
from tests.e2e.member_support import embed_title, mention
from tests.storage.conftest import ANA, creatine_entry

CREATINE_ID = "does-creatine-make-you-bloated"


async def eventually(condition) -> None:
    """Wait (at most 10 s) for state the stand-in does not see: the notification reaches the bot on its own
    database connection, so there is no event to wait on."""
    async with asyncio.timeout(10):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_a_bot_on_postgresql_answers_with_what_another_process_saved(fake_discord, start_bot, pg_database,
                                                                          tmp_path):
    settings = load_settings(knowledge_dir=FIXTURE_KB, data_dir=tmp_path / "data", database_url=pg_database)
    bot = await start_bot(create_bot(settings))
    guild_id = fake_discord.guild.id
    other_faq, other_records = await open_storage(tmp_path / "elsewhere", pg_database, lambda: bot.engine.kb)
    try:
        await other_faq.load_all()
        await other_faq.apply(guild_id, add_entry_op(creatine_entry(), ANA))  # a moderator on another shard
        await eventually(lambda: CREATINE_ID in bot.faq.state(guild_id).entries)
        general, alice = fake_discord.guild.channel("general"), fake_discord.make_member("alice")
        mark = fake_discord.mark()
        await fake_discord.inject_message(general, alice, mention(fake_discord, "does creatine make you bloated?"))
        answer = await fake_discord.wait_for_message(general.id, since=mark)
        assert embed_title(answer) == "Does creatine make you bloated?"
        await fake_discord.settle()  # the bot has seen its reply go out, so the decision is on its way
        await bot.workers.drain()
        [decision] = await other_records.decisions(guild_id, 0)  # recorded in the shared database
        assert (decision.status, decision.entry_id) == ("answer", CREATINE_ID)
    finally:
        await other_faq.close()
        await other_records.close()
    listeners = list(bot._following)
    await bot.close()
    assert {task.get_name() for task in listeners} == {  # entries, curated reloads, and forgetting old questions
        "mythbot-faq-listener", "mythbot-knowledge-listener", "mythbot-forget-questions"}
    assert all(task.done() for task in listeners)
    assert not (tmp_path / "data" / "guilds").exists()
