"""Shards (docs/deploy.md, "Sharding"): `mythbot run --shard-count N --shard-ids 0,1` (or MYTHBOT_SHARD_COUNT and
MYTHBOT_SHARD_IDS) runs an AutoShardedBot on those shards; a process that runs only some of them needs
PostgreSQL, since the other processes share nothing else with it."""

import asyncio
import logging
import os
import re
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
from tests.standin.world import WAIT_TIMEOUT
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


# -- two real `mythbot run` processes --------------------------------------------------------------------------
# Real processes, not bots in this one: each has its own event loop, connections, engine and data dir, and
# runs the command line as an operator does (flags, environment, SIGTERM); tests/standin/launch.py points
# each at the stand-in, which runs in this test's event loop and serves every process's shards.

STARTUP = 60  # seconds a process may take to connect its shards (the second shard of one waits 5 s, as on Discord)
STOP = 30  # seconds a process may take to stop on SIGTERM
NO_ANSWER = "I don't have a sourced answer for that yet"
# discord.py colours its log where it guesses a terminal (or Docker) even into a pipe.
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")
LOGGED_PROBLEM = re.compile(r"^\S+ \S+ (ERROR|CRITICAL) |^Traceback")


class BotProcess:
    """`mythbot run ARGS` in a process of its own, pointed at the stand-in (tests/standin/launch.py); its log
    (stderr) is read as it comes."""

    def __init__(self, name: str, process: asyncio.subprocess.Process) -> None:
        self.name, self.process = name, process
        self.lines: list[str] = []
        self._new_line = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, name: str, fake, env: dict[str, str], cwd: Path, *args: str) -> "BotProcess":
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.standin.launch", str(fake.port), "run", *args, cwd=cwd, env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        return cls(name, process)

    async def _read(self) -> None:
        assert self.process.stderr is not None
        while line := await self.process.stderr.readline():
            async with self._new_line:
                self.lines.append(ANSI_COLOUR.sub("", line.decode(errors="replace").rstrip("\n")))
                self._new_line.notify_all()

    def logged(self, text: str) -> list[str]:
        return [line for line in self.lines if text in line]

    async def wait_for_log(self, text: str) -> str:
        try:
            async with asyncio.timeout(WAIT_TIMEOUT), self._new_line:
                await self._new_line.wait_for(lambda: bool(self.logged(text)))
        except TimeoutError:
            raise AssertionError(f"process {self.name} did not log {text!r} within {WAIT_TIMEOUT} s:\n"
                                 + "\n".join(self.lines)) from None
        return self.logged(text)[0]

    async def stop(self) -> int:
        """SIGTERM, as systemd stops it; its exit code (killed after STOP seconds)."""
        if self.process.returncode is None:
            self.process.terminate()
        try:
            code = await asyncio.wait_for(self.process.wait(), STOP)
        except TimeoutError:
            self.process.kill()
            code = await self.process.wait()
        await asyncio.wait_for(self._reader, STOP)
        return code

    def problems(self) -> list[str]:
        return [line for line in self.lines if LOGGED_PROBLEM.search(line)]


@pytest.fixture
async def bot_processes(pg_database, fake_discord, kb_copy, tmp_path):
    """`await start(name, *run_args)`: a `mythbot run` on the stand-in, the shared database and the knowledge
    copy, with a data dir of its own; every one is stopped at the end, and none may log an error. Settings
    come from the environment as in production (the working directory has no .env); shard ids from the flag."""
    started: list[BotProcess] = []
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN" and not k.startswith("MYTHBOT_")}
    env |= {"DISCORD_TOKEN": fake_discord.token, "MYTHBOT_DATABASE_URL": pg_database, "MYTHBOT_SEMANTIC": "false",
            "MYTHBOT_KNOWLEDGE_DIR": str(kb_copy), "MYTHBOT_SHARD_COUNT": "2",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))}

    async def start(name: str, *args: str) -> BotProcess:
        (tmp_path / name).mkdir()
        process_env = env | {"MYTHBOT_DATA_DIR": str(tmp_path / name / "data")}
        started.append(await BotProcess.start(name, fake_discord, process_env, tmp_path / name, *args))
        return started[-1]

    yield start
    codes = await asyncio.gather(*(process.stop() for process in started))
    problems = [f"{p.name}: {line}" for p in started for line in p.problems()]
    assert not problems and set(codes) <= {0}, "\n".join(problems) + f"\nexit codes {codes}"


async def running(fake, process: BotProcess, *shards: int, since: int) -> BotProcess:
    """Once the stand-in has sent `process` its shards' READY and GUILD_CREATEs, it handles what follows."""
    for shard_id in shards:
        waiting = asyncio.ensure_future(fake.gateway.wait_for_identify((shard_id, 2), since=since, timeout=STARTUP))
        exited = asyncio.ensure_future(process.process.wait())
        done, _ = await asyncio.wait({waiting, exited}, return_when=asyncio.FIRST_COMPLETED)
        exited.cancel()
        if waiting not in done:
            waiting.cancel()
            raise AssertionError(f"process {process.name} exited before running shard {shard_id}:\n"
                                 + "\n".join(process.lines))
        await waiting
    return process


@pytest.mark.timeout(240)
async def test_two_shard_processes_on_one_database(bot_processes, fake_discord, pg_database, kb_copy, tmp_path):
    gyms = [fake_discord.add_guild(f"Gym {n}", shard=(n, 2)) for n in (0, 1)]  # one on each shard
    moderator = fake_discord.make_moderator("bo", guild=gyms[0])
    member_0, member_1 = fake_discord.make_member("ana", guild=gyms[0]), fake_discord.make_member("cy", guild=gyms[1])
    since = fake_discord.gateway.identify_count
    a, b = await asyncio.gather(bot_processes("a", "--shard-ids", "0"), bot_processes("b", "--shard-ids", "1"))
    await asyncio.gather(running(fake_discord, a, 0, since=since), running(fake_discord, b, 1, since=since))
    await listening_for_reloads(pg_database, 2)

    # Entries are per server: gym 0's new entry answers in gym 0 (process a), not in gym 1 (process b).
    added = await submitted_form(fake_discord, "add", None, CREATINE_FORM, user=moderator, guild=gyms[0])
    assert added["content"] == f"Added `{CREATINE_ID}`. It answers in this server now."
    elsewhere = await ask(fake_discord, "does creatine make you bloated", user=member_1, guild=gyms[1])
    assert embed_title(elsewhere) is None and elsewhere["content"].startswith(NO_ANSWER)
    here = await ask(fake_discord, "does creatine make you bloated", user=member_0, guild=gyms[0])
    assert embed_title(here) == CREATINE_FORM["title"]

    # A curator's change, reloaded in process a, reaches process b.
    taught_situps(kb_copy)
    reloaded = await faq(fake_discord, "reload", user=moderator, guild=gyms[0])
    await reloaded.response()
    assert (await reloaded.followup(0))["content"].startswith("Reloaded the curated knowledge: 6 entries.")
    await b.wait_for_log("reloaded knowledge as another process did: 6 entries")
    assert embed_title(await ask(fake_discord, SITUPS, user=member_1, guild=gyms[1])) == SPOT_REDUCTION
    assert len(a.logged("reloaded knowledge")) == 1 and not a.logged("as another process did")
    assert len(b.logged("reloaded knowledge")) == 1

    # Both stop; one process takes both shards, with a data dir of its own: gym 0 keeps its entry and history.
    assert [await a.stop(), await b.stop()] == [0, 0]
    assert a.logged("stopped cleanly") and b.logged("stopped cleanly")
    since = fake_discord.gateway.identify_count
    both = await running(fake_discord, await bot_processes("both", "--shard-ids", "0,1"), 0, 1, since=since)
    assert embed_title(await ask(fake_discord, "does creatine make you bloated", user=member_0, guild=gyms[0])) \
        == CREATINE_FORM["title"]
    _, shown = await answered_in_full(await faq(fake_discord, "show", {"id": CREATINE_ID}, user=moderator,
                                                guild=gyms[0]))
    history = next(field["value"] for field in shown["embeds"][0]["fields"] if field["name"].startswith("History"))
    assert f"by bo ({moderator.id})" in history
    assert embed_title(await ask(fake_discord, SITUPS, user=member_1, guild=gyms[1])) == SPOT_REDUCTION
    for name in ("a", "b", "both"):  # nothing about the servers stayed in a process's data dir
        data_dir = tmp_path / name / "data"
        assert not (data_dir / "guilds").exists() and not (data_dir / "mythbot.sqlite3").exists()
    assert await both.stop() == 0 and both.logged("stopped cleanly")
