"""`mythbot db upgrade | import --from DIR | export --to DIR`: the PostgreSQL schema, and moving a data dir
into the database and back. The database URL comes from `--database-url` or `MYTHBOT_DATABASE_URL`.

Every `mythbot` command builds this parser, so the database modules are imported only when a db
command runs (psycopg alone takes a third of a second to import).
"""

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.storage.transfer import Report

DATABASE_URL_ENV = "MYTHBOT_DATABASE_URL"
EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def _database_url(args: argparse.Namespace) -> str:
    from bot.storage.base import StorageError
    from bot.storage.factory import POSTGRES_SCHEMES

    url = args.database_url or os.environ.get(DATABASE_URL_ENV, "")
    if not url:
        raise StorageError(f"no database: pass --database-url or set {DATABASE_URL_ENV}=postgresql://...")
    if not url.startswith(POSTGRES_SCHEMES):
        raise StorageError("the database URL must start with postgresql://")
    return url


def _run(work: Callable[[], Awaitable[int]]) -> int:
    """Run one command; report any storage, database or file failure as one line on stderr."""
    import psycopg

    from bot.storage.atomic import WriteFailed
    from bot.storage.base import StorageError
    from bot.storage.postgres.migrate import MigrationError

    try:
        return asyncio.run(work())
    except (StorageError, MigrationError, WriteFailed) as exc:
        print(f"mythbot: {exc}", file=sys.stderr)
    except psycopg.Error as exc:
        print(f"mythbot: the database refused: {type(exc).__name__}: {exc}", file=sys.stderr)
    return EXIT_PROBLEMS


def _print_report(report: "Report", action: str) -> int:
    for line in report.lines():
        print(line)
    for problem in report.problems:
        print(problem, file=sys.stderr)
    if report.problems:
        print(f"{len(report.problems)} problem(s): what they name was not {action}", file=sys.stderr)
        return EXIT_PROBLEMS
    return EXIT_OK


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    async def work() -> int:
        from bot.storage.postgres.migrate import current_version, upgrade

        url = _database_url(args)
        applied = await upgrade(url)
        for name in applied:
            print(f"applied {name}")
        print(f"schema version {await current_version(url)}" + ("" if applied else " (already current)"))
        return EXIT_OK

    return _run(work)


def cmd_db_import(args: argparse.Namespace) -> int:
    source = Path(args.source)
    if not source.is_dir():
        print(f"mythbot: {source}: no such data directory", file=sys.stderr)
        return EXIT_PROBLEMS

    async def work() -> int:
        from bot.storage.transfer import import_data_dir

        return _print_report(await import_data_dir(source, _database_url(args)), "imported")

    return _run(work)


def cmd_db_export(args: argparse.Namespace) -> int:
    async def work() -> int:
        from bot.storage.transfer import export_data_dir

        return _print_report(await export_data_dir(_database_url(args), Path(args.target)), "exported")

    return _run(work)


def add_db_commands(parser: argparse.ArgumentParser) -> None:
    """The subcommands of `mythbot db`, on the parser `cli.build_parser` made for it."""
    parser.set_defaults(handler=lambda _args: parser.print_help(sys.stderr) or EXIT_USAGE)
    url = argparse.ArgumentParser(add_help=False)
    url.add_argument("--database-url", metavar="URL", default=None,
                     help=f"postgresql://user:password@host:port/database (default: {DATABASE_URL_ENV})")
    sub = parser.add_subparsers(dest="db_command", metavar="COMMAND")

    def command(name: str, handler: Callable[[argparse.Namespace], int], help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[url], help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    command("upgrade", cmd_db_upgrade, "apply the pending schema migrations")
    p = command("import", cmd_db_import, "copy a data dir (guild files, history, SQLite records) into the database; "
                                         "running it again changes nothing")
    p.add_argument("--from", dest="source", metavar="DATA_DIR", required=True)
    p = command("export", cmd_db_export, "write the database's entries, history and records into a data dir; "
                                         "running it again changes nothing")
    p.add_argument("--to", dest="target", metavar="DATA_DIR", required=True)
