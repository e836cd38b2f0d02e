"""The Discord front end: the bot class, its factory, and the `run` and `sync` entry points."""

import asyncio
import errno
import logging
import re
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs._errors import NO_PINGS, command_failed, custom_id_of, listener_failed
from bot.engine.conversation import ConversationMemory
from bot.engine.engine import Engine, GuildKnowledge
from bot.engine.knowledge import validate_paths
from bot.engine.yamlsafe import Problem
from bot.engine_setup import build_engine
from bot.settings import Settings
from bot.stats import SECONDS_PER_DAY
from bot.storage.base import FaqStore, RecordStore, StorageError
from bot.storage.factory import open_storage
from bot.workers import Workers

if TYPE_CHECKING:
    from bot.storage.postgres.notify import KnowledgeBus

log = logging.getLogger("mythbot")

EXTENSIONS = ("bot.cogs.answering", "bot.cogs.exercises", "bot.cogs.help", "bot.cogs.faq")
Storage = tuple[FaqStore, RecordStore]


# discord.py's own custom_ids (os.urandom(16).hex()) are on non-persistent views only; the one of those
# that shows a list is the /exercises pager. Ours start with "mythbot:".
_AUTO_ID = re.compile(r"[0-9a-f]{32}")


def expired_text(custom_id: str) -> str:
    if custom_id.startswith("mythbot:faq:"):
        return ("This form expired (the bot restarted, or it sat unused): run `/faq add` or `/faq edit` again; "
                "what was typed there is not kept.")
    if _AUTO_ID.fullmatch(custom_id):
        return "This list expired (the bot restarted, or it sat unused): run `/exercises` again."
    return "These buttons expired (the bot restarted, or they sat unused): run the command again."


def intents() -> discord.Intents:
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.dm_messages = True
    wanted.message_content = True
    return wanted


# A reply Discord rate-limits for longer than this is given up (discord.RateLimited) instead of parking
# that channel's replies, possibly for an hour; 30 s is the least discord.py accepts.
MAX_RATELIMIT_WAIT = 30.0


class MythTree(app_commands.CommandTree["MythBot"]):
    """The slash commands, under the error policy (`bot.cogs._errors`)."""

    async def on_error(self, interaction: discord.Interaction["MythBot"], error: app_commands.AppCommandError, /
                       ) -> None:
        await command_failed(interaction, error)


class MythBot(commands.Bot):
    """The bot: settings, the engine it answers with, and storage behind its two interfaces.

    `faq` (a server's own entries) and `records` (audit, gaps, votes, decisions) are opened by
    `open_storage()`, which `setup_hook` calls if `run` has not already; `close()` closes them after
    the background writes drain. Both are set before the bot connects."""

    faq: FaqStore
    records: RecordStore

    def __init__(self, settings: Settings, engine: Engine, *, storage: Storage | None = None,
                 **client_options: Any) -> None:
        client_options.setdefault("max_ratelimit_timeout", MAX_RATELIMIT_WAIT)
        super().__init__(command_prefix=commands.when_mentioned, intents=intents(),
                         allowed_mentions=NO_PINGS, help_command=None, tree_cls=MythTree,
                         **client_options)
        self.settings = settings
        self.engine = engine
        self._storage = storage
        self._storage_open = False
        self._following: list[asyncio.Task[None]] = []
        self.knowledge_bus: KnowledgeBus | None = None  # PostgreSQL: reloads reach the other processes
        self.conversations = ConversationMemory(ttl=settings.conversation_ttl)
        self.workers = Workers()

    @staticmethod
    def of(interaction: discord.Interaction[Any]) -> "MythBot":
        """The bot an interaction reached: how buttons, forms and autocompletes get the services."""
        client = interaction.client
        if not isinstance(client, MythBot):
            raise TypeError(f"an interaction reached a {type(client).__name__}, not a MythBot: "
                            "Mythbot's buttons and commands need its engine and storage")
        return client

    def knowledge_for(self, guild_id: int | None) -> GuildKnowledge:
        """What members of this server (None: a DM) are shown: every member-facing reply reads entries here."""
        return self.engine.for_guild(self.faq.scope_for(guild_id))

    async def open_storage(self) -> None:
        """Open both stores (files, or the database of `MYTHBOT_DATABASE_URL`) and load every server's entries.

        Raises `StorageError` when they cannot be opened. Once open, calling it again does nothing."""
        if self._storage_open:
            return
        faq, records = self._storage or await open_storage(self.settings.data_dir, self.settings.database,
                                                           lambda: self.engine.kb)
        self.faq, self.records, self._storage_open = faq, records, True
        await faq.load_all()  # a broken server's data is logged and falls back where it can; never fatal
        if getattr(faq, "listen", None) is not None:  # PostgreSQL: what other processes change reaches this one
            self.knowledge_bus, self._following = follow_other_processes(faq, self._reload_as_another_did)
        await forget_old_questions(records, self.settings.keep_questions_days)
        self._following.append(asyncio.create_task(forget_daily(records, self.settings.keep_questions_days),
                                                    name="mythbot-forget-questions"))

    async def _close_storage(self) -> None:
        if not self._storage_open:
            return
        self._storage_open = False
        for listener in self._following:
            listener.cancel()
        await asyncio.gather(*self._following, return_exceptions=True)
        for store in (self.faq, self.records):
            try:
                await store.close()
            except StorageError as exc:
                log.warning("could not close storage cleanly: %s", exc)

    async def setup_hook(self) -> None:
        from bot.cogs._ui import DYNAMIC_ITEMS

        await self.open_storage()
        self.add_dynamic_items(*DYNAMIC_ITEMS)
        for name in EXTENSIONS:
            await self.load_extension(name)
        if self.settings.dev_guild_id:
            guild = discord.Object(id=self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d slash commands to development guild %s", len(synced), guild.id)

    async def on_message(self, message: discord.Message) -> None:
        """Text commands are not used; the answering cog listens to messages itself."""

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        """A listener failed (discord.py calls this inside its `except`): the error policy, not its default."""
        await listener_failed(event_method, args, sys.exc_info()[1])

    async def on_interaction(self, interaction: discord.Interaction["MythBot"]) -> None:
        """A button no live view owns (the bot restarted, or the view timed out) says it expired."""
        if interaction.type is discord.InteractionType.component and not self.live_ui_owns(interaction):
            try:
                await interaction.response.send_message(expired_text(custom_id_of(interaction)),
                                                        ephemeral=True, allowed_mentions=NO_PINGS)
            except discord.HTTPException as exc:  # e.g. answered meanwhile after all
                log.info("could not say a button expired: %s", exc)

    def live_ui_owns(self, interaction: discord.Interaction["MythBot"]) -> bool:
        """Whether a live view, modal or persistent (dynamic) button of this process handles `interaction`;
        discord.py drops the others silently and the member sees "This interaction failed".

        discord.py 2.7 has no public way to ask, so this reads its view store the way
        `ViewStore.dispatch_view` and `dispatch_modal` do (the tests pin discord.py and prove it)."""
        data: Mapping[str, object] = interaction.data or {}
        custom_id = custom_id_of(interaction)
        try:
            store = self._connection._view_store
            if interaction.type is discord.InteractionType.modal_submit:
                return custom_id in store._modals
            key = (data.get("component_type"), custom_id)
            message_id = interaction.message.id if interaction.message else None
            return (key in store._views.get(message_id, {}) or key in store._views.get(None, {})
                    or any(pattern.fullmatch(custom_id) for pattern in store._dynamic_items))
        except AttributeError:  # another discord.py: assume it does, so nothing is answered twice
            return True

    async def reload_knowledge(self) -> list[Problem]:
        """Re-read the curated knowledge off the event loop; keep the old engine if anything is wrong. Once
        reloaded, the other processes on the same PostgreSQL reload too."""
        problems = await self._reload_knowledge()
        if not problems and self.knowledge_bus is not None:
            await self.knowledge_bus.announce()
        return problems

    async def _reload_as_another_did(self) -> None:
        await self._reload_knowledge(" as another process did")

    async def _reload_knowledge(self, why: str = "") -> list[Problem]:
        kb, problems = await asyncio.to_thread(validate_paths, [self.settings.knowledge_dir])
        if not problems:
            self.engine = await asyncio.to_thread(build_engine, self.settings, kb)
            log.info("reloaded knowledge%s: %d entries", why, len(kb.entries))
        else:
            log.warning("reload%s refused, %d problem(s); the previous knowledge stays in service: %s", why,
                        len(problems), problems[0])
        return problems

    async def close(self) -> None:
        await super().close()
        await self.workers.drain()  # background record writes finish before the database closes
        await self._close_storage()
        self.workers.close()


async def forget_old_questions(records: RecordStore, keep_days: int) -> None:
    """Forget what members wrote more than `keep_days` ago; a storage failure is one warning."""
    try:
        forgotten = await records.forget_questions(time.time() - keep_days * SECONDS_PER_DAY)
    except StorageError as exc:
        log.warning("could not forget members' questions older than %d days (next try in a day): %s", keep_days, exc)
    else:
        if forgotten:
            log.info("forgot %d record(s) of what members wrote more than %d days ago", forgotten, keep_days)


async def forget_daily(records: RecordStore, keep_days: int) -> None:
    while True:
        await asyncio.sleep(SECONDS_PER_DAY)
        await forget_old_questions(records, keep_days)


def follow_other_processes(faq: FaqStore, reload: Callable[[], Awaitable[None]]
                           ) -> tuple["KnowledgeBus", list[asyncio.Task[None]]]:
    """On PostgreSQL, start following the other processes: a server's entries changed (re-read that server)
    and the curated knowledge reloaded (`reload`). Returns the bus to announce this process's reloads on,
    and the listening tasks."""
    from bot.storage.postgres.notify import KnowledgeBus  # psycopg is imported only by those who use it

    pg: Any = faq  # a PgFaqStore: `dsn`, `listen` and `refresh` are beyond the FaqStore protocol
    bus = KnowledgeBus(pg.dsn)
    return bus, [asyncio.create_task(pg.listen(pg.refresh), name="mythbot-faq-listener"),
                 asyncio.create_task(bus.listen(reload), name="mythbot-knowledge-listener")]


class ShardedMythBot(MythBot, commands.AutoShardedBot):
    """The bot on `AutoShardedBot`: one gateway connection per shard it runs (`Settings.shards`).

    `commands.Bot` adds nothing to `BotBase` and `discord.Client`, so after `MythBot` the method order is
    `AutoShardedBot`'s: the shard-aware client, with everything `MythBot` defines."""


def create_bot(settings: Settings, *, engine: Engine | None = None, storage: Storage | None = None,
               **client_options: object) -> MythBot:
    """Build a bot from validated settings; nothing connects until `start`, and storage opens in
    `setup_hook` (or earlier, with `await bot.open_storage()`).

    Unless `storage` is given, `MYTHBOT_DATABASE_URL` picks it: PostgreSQL, or by default the data dir's
    YAML files and SQLite. Each change is checked against whatever curated knowledge the bot serves at
    the time (it follows reloads). With `MYTHBOT_SHARD_COUNT` set, it is a `ShardedMythBot` running the
    shards of `MYTHBOT_SHARD_IDS` (all of them when unset); else a plain `commands.Bot`."""
    engine = engine or build_engine(settings)
    if settings.shards is None:
        return MythBot(settings, engine, storage=storage, **client_options)
    return ShardedMythBot(settings, engine, storage=storage, shard_count=settings.shard_count,
                          shard_ids=list(settings.shards), **client_options)


class StartupError(Exception):
    """Why the bot cannot start, as one line for the operator: no traceback, no secret."""


def check_data_dir(path: Path) -> None:
    """Stop before connecting when the bot could not save anything there (moderators' entries, records)."""
    try:
        if path.exists() and not path.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "it is a file, not a directory")
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        raise StartupError(f"the data directory {path} cannot be written ({reason}): set MYTHBOT_DATA_DIR (or "
                           "--data) to a directory the bot's user can write, or fix its permissions") from None


async def open_bot(settings: Settings, engine: Engine | None = None) -> MythBot:
    """The bot for `run` and `sync`, its storage open before anything is built or connects: storage that
    cannot be opened is one StartupError line that names what to do, and never quotes the database URL
    (it holds a password)."""
    built: list[MythBot] = []  # each change is checked against the knowledge of the bot built below
    try:
        storage = await open_storage(settings.data_dir, settings.database, lambda: built[0].engine.kb)
        built.append(create_bot(settings, engine=engine, storage=storage))
        await built[0].open_storage()  # every server's entries are loaded before anything connects
    except StorageError as exc:
        if settings.database:
            raise StartupError(f"MYTHBOT_DATABASE_URL: {exc}: check the URL and that PostgreSQL is running and "
                               "reachable, or unset it to keep entries in the data dir") from None
        reason = exc.__cause__ or exc
        raise StartupError(f"the records database in {settings.data_dir} cannot be opened ({reason}): move "
                           "mythbot.sqlite3 aside (a new one is created) or restore it from a backup") from None
    return built[0]


def refusal(exc: discord.HTTPException, *, logged_in: bool) -> str:
    """One line for an HTTP error at start-up. Not the server's answer: it may quote what was sent."""
    if not logged_in:
        return (f"Discord refused the login (HTTP {exc.status}): check DISCORD_TOKEN "
                "(Developer Portal > Bot > Reset Token)")
    return (f"Discord refused a start-up request (HTTP {exc.status}, code {exc.code}): check the guild id "
            "(MYTHBOT_DEV_GUILD_ID, --guild) and that the bot was invited with the applications.commands scope")


async def _run(settings: Settings, engine: Engine | None) -> int:
    bot = await open_bot(settings, engine)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lambda: asyncio.ensure_future(bot.close()))
    try:
        async with bot:
            await bot.start(settings.token or "")
    except discord.LoginFailure:
        log.error("Discord refused the token: check DISCORD_TOKEN (Developer Portal > Bot > Reset Token)")
        return 1
    except discord.PrivilegedIntentsRequired:
        log.error("The Message Content intent is off: enable it in the Developer Portal > Bot > "
                  "Privileged Gateway Intents, then start again")
        return 1
    except discord.HTTPException as exc:
        log.error(refusal(exc, logged_in=bot.user is not None))
        return 1
    log.info("stopped cleanly")
    return 0


# discord.py logs whole gateway payloads, and REST and webhook URLs and bodies, at DEBUG: members'
# messages and interaction tokens (webhook credentials for 15 minutes). These stay at INFO or above.
PAYLOAD_LOGGERS = ("discord.gateway", "discord.http", "discord.webhook")


def setup_logging(level_name: str) -> None:
    level = getattr(logging, level_name)
    discord.utils.setup_logging(level=level)
    for name in PAYLOAD_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.INFO))


def run_bot(settings: Settings, engine: Engine | None = None) -> int:
    """Run until stopped (on `engine`, or one built from the settings); raises StartupError when the bot
    cannot start."""
    if problem := settings.shard_problem():
        raise StartupError(problem)
    check_data_dir(settings.data_dir)
    setup_logging(settings.log_level)
    return asyncio.run(_run(settings, engine))


async def _sync(settings: Settings, guild_id: int | None) -> int:
    bot = await open_bot(settings)
    async with bot:
        await bot.login(settings.token or "")  # runs setup_hook, which loads the cogs
        guild = discord.Object(id=guild_id) if guild_id else None
        if guild:
            bot.tree.copy_global_to(guild=guild)
        try:
            synced = await bot.tree.sync(guild=guild)
        except discord.Forbidden:
            print("Discord refused the sync: invite the bot with the applications.commands scope "
                  "(see README) and check the guild id.", file=sys.stderr)
            return 1
        except discord.HTTPException as exc:
            print(refusal(exc, logged_in=True), file=sys.stderr)
            return 1
    where = f"guild {guild_id}" if guild_id else "every guild (global commands can take up to an hour to show)"
    print(f"synced {len(synced)} commands to {where}: " + ", ".join(f"/{c.name}" for c in synced))
    return 0


def sync_commands(settings: Settings, guild_id: int | None = None) -> int:
    """Sync the slash commands; raises StartupError when the bot cannot start."""
    check_data_dir(settings.data_dir)
    setup_logging(settings.log_level)
    try:
        return asyncio.run(_sync(settings, guild_id))
    except discord.LoginFailure:
        print("Discord refused the token: check DISCORD_TOKEN.", file=sys.stderr)
        return 1
    except discord.HTTPException as exc:
        print(refusal(exc, logged_in=False), file=sys.stderr)
        return 1
