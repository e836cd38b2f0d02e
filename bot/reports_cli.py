"""`mythbot stats` and `mythbot gaps export`: what the bot did in one server, and what moderators taught it,
read from the configured storage (the data dir, or PostgreSQL when a database URL is set).

Both only read; output files are written atomically. `cli.build_parser` registers them.
"""

import argparse
import asyncio
import errno
import json
import os
import sys
import tempfile
from collections.abc import Callable, Coroutine
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bot.engine.knowledge import KnowledgeBase, KnowledgeError, load_knowledge
from bot.faq.stats import PNG_SIZE, entry_titles, server_stats
from bot.settings import Settings, SettingsError, load_settings
from bot.stats import MAX_DAYS, Stats, as_text, render_png
from bot.storage.base import FaqStore, RecordStore, StorageError
from bot.storage.db_commands import DATABASE_URL_ENV

EXIT_OK, EXIT_PROBLEMS = 0, 1
DEFAULT_DAYS = 7

STATS_HELP = "a server's questions per day, most asked entries and votes, as text, JSON or a PNG"
STATS_DESCRIPTION = f"""\
The figures behind /faq stats for one server, from the configured storage: questions per UTC day
(answered / asked which one / unanswered), the most answered entries and helpful / not helpful votes,
over the last N days up to and including --until. Prints them as text, or as JSON with --json;
--out also draws them as a {PNG_SIZE[0]}x{PNG_SIZE[1]} PNG. A server with nothing stored and no
records at all is most likely a wrong id or data dir, so that exits 1; a known server with a quiet
window prints the empty figures."""

GAPS_HELP = "what moderators taught the bot: export it for knowledge/"
EXPORT_HELP = "taught phrasings of curated entries, as a YAML patch for knowledge/"
EXPORT_DESCRIPTION = """\
Writes the phrasings moderators taught for curated entries, in one server or in every server, as YAML
for a curator to review and paste into knowledge/ in a pull request. Format:

  phrasings: 2                      # proposed in total
  guilds:                           # every server read: how many of the proposed phrasings it taught
    111: 2
    222: 1
  files:
    knowledge/myths/hip-dips.yaml:  # a curated file, as `mythbot validate` names it
      spot-reduction:               # an entry id in it; `line` is where the entry starts
        title: Can you burn fat from one spot by training it?
        line: 147
        questions:                  # append these to the entry's questions:
          - can i melt my love handles with side bends
          - how do i lose belly fat only
        servers:                    # how many servers taught each
          can i melt my love handles with side bends: 2
          how do i lose belly fat only: 1
  disputed:                         # taught for different entries in different servers
    - question: are squats good for hip dips
      entries:
        protein-intake: [222]
        squats-hip-dips: [111]

Left out (counted on stderr): phrasings that normalise the same as one the entry already has, or as
another curated entry's, and those of an entry its server hides. Phrasings that normalise the same
are merged, spelled as most servers did. Servers' own entries are not here: /faq export has them."""


class ReportError(Exception):
    """A failure to print as one line, exit 1."""


# --- shared ------------------------------------------------------------------------------------------------


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    if getattr(args, "knowledge", None):
        overrides["knowledge_dir"] = Path(args.knowledge)
    if getattr(args, "data", None):
        overrides["data_dir"] = Path(args.data)
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        raise ReportError(str(exc)) from None


def _knowledge(settings: Settings) -> KnowledgeBase:
    try:
        return load_knowledge(settings.knowledge_dir)
    except KnowledgeError as exc:
        listing = "\n".join(map(str, exc.problems))
        raise ReportError(f"{listing}\nknowledge base has {len(exc.problems)} problem(s); nothing was read") from None


def _database_url(args: argparse.Namespace) -> str | None:
    return args.database_url or os.environ.get(DATABASE_URL_ENV) or None


def _where(settings: Settings, url: str | None) -> str:
    return "the database" if url else f"the data dir {settings.data_dir}"


async def _open(settings: Settings, url: str | None, kb: KnowledgeBase) -> tuple[FaqStore, RecordStore]:
    from bot.storage.factory import open_storage

    if not url and not settings.data_dir.is_dir():
        raise ReportError(f"{settings.data_dir}: no such data directory (set --data or MYTHBOT_DATA_DIR, or "
                          f"{DATABASE_URL_ENV} for PostgreSQL)")
    return await open_storage(settings.data_dir, url, lambda: kb)


async def _close(*stores: FaqStore | RecordStore) -> None:
    for store in stores:
        await store.close()


async def _known(faq: FaqStore, records: RecordStore, guild_id: int) -> bool:
    """Whether storage holds anything at all of this server: entries, taught phrasings or any record."""
    if guild_id in await faq.guild_ids():
        return True
    return bool(await records.decisions(guild_id, 0.0) or await records.votes(guild_id, 0.0)
                or await records.unanswered(guild_id, 0.0, 1) or await records.audit_log(guild_id, 1))


def _unknown(guild_id: int, settings: Settings, url: str | None) -> ReportError:
    return ReportError(f"guild {guild_id}: nothing is stored for it in {_where(settings, url)} (no entries, "
                       "taught phrasings or records); check the id and where the bot keeps its data")


def _run(work: Callable[[], Coroutine[Any, Any, int]], url: str | None) -> int:
    """Run one command; report a storage, database, knowledge or file failure as one line on stderr."""
    failures: tuple[type[Exception], ...] = (ReportError, StorageError)
    if url:
        import psycopg

        failures += (psycopg.Error,)
    try:
        return asyncio.run(work())
    except failures as exc:
        print(f"mythbot: {exc}", file=sys.stderr)
    return EXIT_PROBLEMS


def check_output(path: Path) -> None:
    """Refuse, before any work, an output path that cannot be a file."""
    if path.is_dir():
        raise ReportError(f"{path} is a directory; give a file name")
    if not path.parent.is_dir():
        what = "is not a directory" if path.parent.exists() else "does not exist"
        raise ReportError(f"cannot write {path}: {path.parent} {what}")


def _reason(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.EROFS:
        return "read-only file system"
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    return exc.strerror or str(exc)


def write_output(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one rename: a reader sees the old file or the new one, never a part."""
    check_output(path)
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise ReportError(f"cannot write {path}: {_reason(exc)}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temp_name, 0o644)  # mkstemp's 0600 would hide a report from the group that reads it
        os.replace(temp_name, path)
    except OSError as exc:
        Path(temp_name).unlink(missing_ok=True)
        raise ReportError(f"cannot write {path}: {_reason(exc)}") from None


# --- mythbot stats -------------------------------------------------------------------------------------------


def stats_json(guild_id: int, stats: Stats) -> dict[str, object]:
    """The figures as JSON: every day of the window oldest first, the top entries and votes ranked."""
    return {
        "guild": guild_id,
        "days": stats.days,
        "first_day": stats.first_day.isoformat(),
        "last_day": stats.last_day.isoformat(),
        "questions": stats.total,
        "answered": stats.answered,
        "clarified": stats.clarified,
        "unanswered": stats.unanswered,
        "answered_share": stats.answered_share,
        "helpful": stats.helpful,
        "not_helpful": stats.not_helpful,
        "per_day": [{"day": d.day.isoformat(), "answered": d.answered, "clarified": d.clarified,
                     "unanswered": d.unanswered} for d in stats.per_day],
        "top_entries": [{"entry": e.entry_id, "title": e.title, "answered": e.answered} for e in stats.top_entries],
        "votes": [{"entry": v.entry_id, "title": v.title, "helpful": v.helpful, "not_helpful": v.not_helpful}
                  for v in stats.votes],
    }


def cmd_stats(args: argparse.Namespace) -> int:
    url = _database_url(args)

    async def work() -> int:
        settings = _settings(args)
        out = Path(args.out) if args.out else None
        if out is not None:
            check_output(out)
        kb = _knowledge(settings)
        until = args.until or datetime.now(UTC).date()
        faq, records = await _open(settings, url, kb)
        try:
            await faq.reload(args.guild)
            stats = await server_stats(records, args.guild, entry_titles(kb, faq.state(args.guild)), days=args.days,
                                       until=until)
            if not stats.total and not stats.helpful + stats.not_helpful and not await _known(faq, records, args.guild):
                raise _unknown(args.guild, settings, url)
        finally:
            await _close(faq, records)
        print(json.dumps(stats_json(args.guild, stats), ensure_ascii=False) if args.json
              else as_text(stats, limit=sys.maxsize))
        if out is not None:
            write_output(out, render_png(stats, width_px=PNG_SIZE[0], height_px=PNG_SIZE[1]))
            print(f"wrote {out} ({PNG_SIZE[0]}x{PNG_SIZE[1]} PNG)", file=sys.stderr)
        return EXIT_OK

    return _run(work, url)


# --- mythbot gaps export ------------------------------------------------------------------------------------


def cmd_gaps_export(args: argparse.Namespace) -> int:
    from bot.upstream import gather, left_out_summary, patch_yaml

    url = _database_url(args)

    async def work() -> int:
        settings = _settings(args)
        out = Path(args.out) if args.out else None
        if out is not None:
            check_output(out)
        kb = _knowledge(settings)
        faq, records = await _open(settings, url, kb)
        try:
            if args.guild is None:
                await faq.load_all()  # a broken server is logged and left out; the others still count
                guild_ids = await faq.guild_ids()
            else:
                await faq.reload(args.guild)
                if not await _known(faq, records, args.guild):
                    raise _unknown(args.guild, settings, url)
                guild_ids = [args.guild]
            patch = gather(kb, {guild_id: faq.state(guild_id) for guild_id in guild_ids})
        finally:
            await _close(faq, records)
        text = patch_yaml(patch, kb)
        if out is None:
            sys.stdout.write(text)
        else:
            write_output(out, text.encode())
        for line in left_out_summary(patch):
            print(line, file=sys.stderr)
        print(f"{'wrote ' + str(out) + ': ' if out else ''}{patch.phrasings} phrasing(s) for "
              f"{len(patch.proposals)} curated entr{'y' if len(patch.proposals) == 1 else 'ies'} from "
              f"{len(patch.guilds)} server(s), {len(patch.disputed)} disputed", file=sys.stderr)
        return EXIT_OK

    return _run(work, url)


# --- the parsers ---------------------------------------------------------------------------------------------


def _guild_id(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"a server id is a positive whole number, got {text!r}")
    return int(text)


def _days(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"days must be a whole number from 1 to {MAX_DAYS}, got {text!r}")
    return int(text)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def _add_database_url(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", metavar="URL", default=None,
                        help=f"read PostgreSQL instead of the data dir (default: {DATABASE_URL_ENV})")


def usage_of(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """The handler of a command that needs a subcommand: its help on stderr, exit 2."""

    def usage(_args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    return usage


def add_report_commands(command: Callable[..., argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    """Register `stats` and `gaps export`; `command(name, handler, help)` is `cli.build_parser`'s own."""
    p = command("stats", cmd_stats, STATS_HELP)
    p.description = STATS_DESCRIPTION
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("--guild", type=_guild_id, required=True, metavar="ID", help="the server's id")
    p.add_argument("--days", type=_days, default=DEFAULT_DAYS, metavar="N",
                   help=f"how many UTC days, ending with --until (default: {DEFAULT_DAYS})")
    p.add_argument("--until", type=_day, default=None, metavar="YYYY-MM-DD",
                   help="the last day of the window (default: today, UTC)")
    p.add_argument("--out", metavar="FILE", help=f"also draw the figures as a {PNG_SIZE[0]}x{PNG_SIZE[1]} PNG")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    _add_database_url(p)

    gaps = command("gaps", None, GAPS_HELP)
    gaps.set_defaults(handler=usage_of(gaps))
    sub = gaps.add_subparsers(dest="gaps_command", metavar="COMMAND")
    p = sub.add_parser("export", parents=[common], help=EXPORT_HELP,
                       description=EXPORT_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(handler=cmd_gaps_export)
    p.add_argument("--guild", type=_guild_id, default=None, metavar="ID", help="one server (default: every server)")
    p.add_argument("--out", metavar="FILE", help="write the YAML here (default: print it)")
    _add_database_url(p)
