"""M2, the moderators' side: the audit log is written off the event loop, and a database that is locked
or broken never turns a saved change into "something went wrong"."""

import logging
import sqlite3

from tests.cogs.conftest import answered_in_full, slash
from tests.cogs.test_moderation import CREATINE_ID, add_creatine, answered


def database(bot):
    return bot.settings.data_dir / "mythbot.sqlite3"


async def ask_in_general(fake, member, text):
    general = fake.guild.channel("general")
    mark = fake.mark()
    await fake.inject_message(general, member, f"<@{fake.bot_user.id}> {text}")
    return await fake.wait_for_message(general.id, since=mark)


async def test_a_locked_database_neither_fails_a_saved_change_nor_holds_up_the_bot(fake_discord, faq_bot, guild_id,
                                                                                   role_moderator, regular):
    other = sqlite3.connect(database(faq_bot), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # an admin's sqlite3 shell, a backup tool, a second instance
    try:
        _, added = await answered_in_full(await add_creatine(fake_discord, role_moderator))
        assert added["content"] == f"Added `{CREATINE_ID}`. It answers in this server now."
        _, reloaded = await answered_in_full(await slash(fake_discord, "reload", user=role_moderator))
        assert reloaded["content"].startswith("Reloaded the curated knowledge")
        # The audit writes still wait for the lock, and members are answered meanwhile.
        answer = await ask_in_general(fake_discord, regular, "does spot reduction work")
        assert answer["embeds"][0]["title"] == "Can you burn fat from one spot?"
        assert answered(faq_bot, guild_id, "does creatine cause bloating") == CREATINE_ID
    finally:
        other.execute("ROLLBACK")
        other.close()
    await faq_bot.workers.drain()


async def test_a_broken_audit_table_loses_the_record_not_the_change(fake_discord, faq_bot, guild_id, role_moderator,
                                                                    caplog):
    with sqlite3.connect(database(faq_bot)) as other:
        other.execute("DROP TABLE audit")  # every audit write now fails with "no such table"
    _, added = await answered_in_full(await add_creatine(fake_discord, role_moderator))
    assert added["content"] == f"Added `{CREATINE_ID}`. It answers in this server now."
    _, reloaded = await answered_in_full(await slash(fake_discord, "reload", user=role_moderator))
    assert reloaded["content"].startswith("Reloaded the curated knowledge")
    await faq_bot.workers.drain()
    lost = [r.getMessage() for r in caplog.records
            if r.levelno == logging.WARNING and "no such table" in r.getMessage()]
    assert len(lost) == 2 and all(message.startswith("could not record the audit record of") for message in lost)
    assert answered(faq_bot, guild_id, "does creatine cause bloating") == CREATINE_ID
