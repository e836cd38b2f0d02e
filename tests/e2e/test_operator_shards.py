"""Shards (docs/deploy.md, "Sharding"): `mythbot run --shard-count N --shard-ids 0,1` (or MYTHBOT_SHARD_COUNT and
MYTHBOT_SHARD_IDS) runs an AutoShardedBot on those shards; a process that runs only some of them needs
PostgreSQL, since the other processes share nothing else with it."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import discord
import pytest

from bot import cli
from bot.discord_app import MythBot, ShardedMythBot, create_bot
from bot.settings import load_settings
from tests.cogs.conftest import MODAL, answered_in_full
from tests.cogs.test_moderation import CREATINE_FORM, CREATINE_ID
from tests.conftest import FIXTURE_KB, PROJECT_ROOT
from tests.e2e.member_support import DEFERRED, embed_title, mention
from tests.e2e.test_operator_postgres import eventually
from tests.storage.test_pg_store import until

WELL_FORMED_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB"


def settings_from(argv: list[str]):
    return cli._settings(cli.build_parser().parse_args(argv))


def test_the_flags_override_the_environment(monkeypatch):
    monkeypatch.setenv("MYTHBOT_SHARD_COUNT", "4")
    monkeypatch.setenv("MYTHBOT_SHARD_IDS", "3")
    assert settings_from(["run"]).shards == (3,)
    assert settings_from(["run", "--shard-ids", "0,1"]).shards == (0, 1)
    settings = settings_from(["run", "--shard-count", "2", "--shard-ids", "1"])
    assert (settings.shard_count, settings.shards) == (2, (1,))
    with pytest.raises(cli.CommandError, match="MYTHBOT_SHARD_IDS: shard 3 is out of range"):
        settings_from(["run", "--shard-count", "2"])  # the environment's shard 3 of the flag's 2


def test_some_shards_without_postgresql_stop_run_with_one_line_before_anything_starts(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN" and not k.startswith("MYTHBOT_")}
    env |= {"DISCORD_TOKEN": WELL_FORMED_TOKEN, "MYTHBOT_SHARD_COUNT": "4"}
    out = subprocess.run([sys.executable, "-m", "bot", "run", "--shard-ids", "2,3", "--knowledge", str(FIXTURE_KB),
                          "--data", str(tmp_path / "data")], capture_output=True, text=True, timeout=60, env=env,
                         cwd=PROJECT_ROOT)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    [line] = out.stderr.strip().splitlines()
    assert line == ("mythbot: MYTHBOT_SHARD_IDS: this process runs shards 2, 3 of 4, so other processes run the rest, "
                    "and processes share servers' entries only through PostgreSQL: set MYTHBOT_DATABASE_URL "
                    "(docs/deploy.md, \"Sharding\"), or run every shard in this process")
    assert not (tmp_path / "data").exists()  # refused before the data dir or the engine's cache was touched


def test_without_shard_settings_the_bot_is_a_plain_bot(tmp_path, fixture_engine):
    bot = create_bot(load_settings(knowledge_dir=FIXTURE_KB, data_dir=tmp_path), engine=fixture_engine)
    assert type(bot) is MythBot and not isinstance(bot, discord.AutoShardedClient)


async def test_one_process_can_run_every_shard(fake_discord, start_bot, tmp_path):
    guilds = [fake_discord.add_guild(f"Gym {n}", shard=(n, 2)) for n in (0, 1)]
    settings = load_settings(knowledge_dir=FIXTURE_KB, data_dir=tmp_path / "data", shard_count=2)
    bot = await start_bot(create_bot(settings))
    assert isinstance(bot, ShardedMythBot) and isinstance(bot, discord.AutoShardedClient)
    assert sorted(bot.shards) == [0, 1] and bot.shard_count == 2
    assert {session.shard for session in fake_discord.gateway.sessions.values()} == {(0, 2), (1, 2)}
    for guild in guilds:
        assert bot.get_guild(guild.id).shard_id == (guild.id >> 22) % 2
        general, member = guild.channel("general"), fake_discord.make_member("ana", guild=guild)
        mark = fake_discord.mark()
        await fake_discord.inject_message(general, member, mention(fake_discord, "will squats fix my hip dips?"))
        reply = await fake_discord.wait_for_message(general.id, since=mark)
        assert embed_title(reply) == "Will squats fix hip dips?"


# -- several processes on one PostgreSQL (here, bots in this process with their own connections each) ------------

SITUPS = "do situps flatten a belly pooch"  # no answer in the fixture's knowledge until `taught_situps`
SPOT_REDUCTION = "Can you burn fat from one spot?"


def taught_situps(kb_dir: Path) -> None:
    """A curator's change to the knowledge files: a new phrasing of spot-reduction."""
    myths = kb_dir / "myths.yaml"
    myths.write_text(myths.read_text().replace("      - does spot reduction work\n",
                                               f"      - does spot reduction work\n      - {SITUPS}\n"))


def shard_settings(shard_id: int, *, kb_dir: Path, data_dir: Path, database: str, count: int = 2):
    return load_settings(knowledge_dir=kb_dir, data_dir=data_dir, database_url=database, shard_count=count,
                         shard_ids=(shard_id,), semantic=False)


async def listening_for_reloads(dsn: str, processes: int) -> None:
    """Until that many processes LISTEN for curated reloads (their listeners start with the bot, unawaited)."""
    await until(dsn, f"SELECT count(*) = {processes} FROM pg_stat_activity WHERE datname = current_database() "
                     "AND query = 'LISTEN \"mythbot_knowledge\"'")


async def test_a_reload_in_one_process_reloads_every_other_once(pg_database, fake_discord, start_bot, kb_copy,
                                                                tmp_path, caplog):
    gyms = [fake_discord.add_guild(f"Gym {n}", shard=(n, 2)) for n in (0, 1)]
    moderator, member = fake_discord.make_moderator("bo", guild=gyms[0]), fake_discord.make_member("cy", guild=gyms[1])
    for n in (0, 1):
        await start_bot(create_bot(shard_settings(n, kb_dir=kb_copy, data_dir=tmp_path / f"data-{n}",
                                                  database=pg_database)))
    await listening_for_reloads(pg_database, 2)
    taught_situps(kb_copy)
    with caplog.at_level(logging.INFO, logger="mythbot"):
        reload = await fake_discord.inject_slash_command("faq reload", user=moderator,
                                                         channel=gyms[0].channel("general"))
        assert (await reload.response()).type == DEFERRED
        assert (await reload.followup(0))["content"].startswith("Reloaded the curated knowledge: 6 entries.")
        await eventually(lambda: "as another process did" in caplog.text)
    reloads = [r.getMessage() for r in caplog.records if r.name == "mythbot" and "reload" in r.getMessage()]
    # Shard 0's process reloaded once (its own announcement comes back and is ignored), shard 1's once.
    assert reloads == ["reloaded knowledge: 6 entries", "reloaded knowledge as another process did: 6 entries"]
    general = gyms[1].channel("general")
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, member, mention(fake_discord, SITUPS))
    assert embed_title(await fake_discord.wait_for_message(general.id, since=mark)) == SPOT_REDUCTION


async def faq(fake, command: str, options=None, *, user, guild):
    """`/faq <command>` by `user` in `guild`'s #general."""
    return await fake.inject_slash_command(f"faq {command}", options or {}, user=user, channel=guild.channel("general"))


async def submitted_form(fake, command: str, options, fields: dict[str, str], *, user, guild) -> dict:
    """Open the `/faq add` or `/faq edit` form, submit `fields`, and return the bot's follow-up."""
    form = await (await faq(fake, command, options, user=user, guild=guild)).response()
    assert form.type == MODAL
    _, done = await answered_in_full(await fake.inject_modal_submit(form.custom_id, fields, user=user))
    return done


async def ask(fake, question: str, *, user, guild) -> dict:
    general = guild.channel("general")
    mark = fake.mark()
    await fake.inject_message(general, user, mention(fake, question))
    return await fake.wait_for_message(general.id, since=mark)


async def test_a_server_whose_shard_moves_to_another_process_keeps_its_entries_and_history(
        pg_database, fake_discord, start_bot, kb_copy, tmp_path):
    gym = fake_discord.add_guild("Gym", shard=(1, 2))
    moderator, member = fake_discord.make_moderator("bo", guild=gym), fake_discord.make_member("cy", guild=gym)
    first = await start_bot(create_bot(shard_settings(1, kb_dir=kb_copy, data_dir=tmp_path / "first",
                                                      database=pg_database)))
    added = await submitted_form(fake_discord, "add", None, CREATINE_FORM, user=moderator, guild=gym)
    assert added["content"] == f"Added `{CREATINE_ID}`. It answers in this server now."
    await submitted_form(fake_discord, "edit", {"id": CREATINE_ID}, {"verdict": "true / strong"}, user=moderator,
                         guild=gym)
    await first.close()

    # Its shard now runs in another process, with a data dir of its own: one that runs every shard.
    settings = load_settings(knowledge_dir=kb_copy, data_dir=tmp_path / "second", database_url=pg_database,
                             shard_count=2, semantic=False)
    second = await start_bot(create_bot(settings))
    assert embed_title(await ask(fake_discord, "does creatine make you bloated", user=member, guild=gym)) == \
        CREATINE_FORM["title"]
    _, shown = await answered_in_full(await faq(fake_discord, "show", {"id": CREATINE_ID}, user=moderator, guild=gym))
    [card] = shown["embeds"]
    history = next(field["value"] for field in card["fields"] if field["name"].startswith("History")).splitlines()
    assert len(history) == 2 and all(f"by bo ({moderator.id})" in line for line in history)  # edited, then added
    await second.workers.drain()
    assert [record.action for record in await second.records.audit_log(gym.id)] == ["edit", "add"]
    for data_dir in (tmp_path / "first", tmp_path / "second"):  # nothing about the server stayed in a process
        assert not (data_dir / "guilds").exists() and not (data_dir / "mythbot.sqlite3").exists()

