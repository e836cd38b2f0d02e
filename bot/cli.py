"""The `mythbot` command line. Its commands and JSON shapes are a contract other tools script against
(see shared/design.md): change them only by adding."""

import argparse
import json
import sys
import tomllib
from collections.abc import Callable, Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import BinaryIO

from bot.engine.engine import Engine
from bot.engine.evaluate import EvalSetError, Ranked, as_json, cross_validate, load_eval_set, rank_all, score, tune
from bot.engine.knowledge import KnowledgeError, validate_paths
from bot.engine.normalize import MAX_INPUT_CHARS
from bot.engine.render import as_text
from bot.engine.schema_export import check_schema, write_schema
from bot.engine_setup import build_engine
from bot.reports_cli import add_report_commands
from bot.settings import PROJECT_ROOT, Settings, SettingsError, load_settings
from bot.storage.db_commands import add_db_commands

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
Handler = Callable[[argparse.Namespace], int]  # a command: its parsed arguments in, the exit code out


class CommandError(Exception):
    """A failure to report on stderr as one clear message, with an exit code."""

    def __init__(self, message: str, code: int = EXIT_PROBLEMS) -> None:
        super().__init__(message)
        self.code = code


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    if getattr(args, "knowledge", None):
        overrides["knowledge_dir"] = Path(args.knowledge)
    if getattr(args, "data", None):
        overrides["data_dir"] = Path(args.data)
    if getattr(args, "shard_count", None) is not None:
        overrides["shard_count"] = args.shard_count
    if getattr(args, "shard_ids", None) is not None:
        overrides["shard_ids"] = args.shard_ids  # checked like MYTHBOT_SHARD_IDS
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        raise CommandError(str(exc)) from None


def _engine(settings: Settings) -> Engine:
    try:
        return build_engine(settings)
    except KnowledgeError as exc:
        listing = "\n".join(map(str, exc.problems))
        count = len(exc.problems)
        raise CommandError(f"{listing}\nknowledge base has {count} problem(s); nothing was loaded") from None


def _print_json(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False))


def cmd_ask(args: argparse.Namespace) -> int:
    knowledge = _engine(_settings(args)).for_guild(None)
    reply = knowledge.ask(args.question)
    if args.json:
        data = reply.result.to_dict()
        data["answer"] = reply.view.body if reply.view else None
        data["safety"] = reply.view.safety if reply.view else None
        data["sources"] = [s.to_dict() for s in (reply.view.sources if reply.view else ())]
        _print_json(data)
        return EXIT_OK
    from bot.console import describe_reply

    print(describe_reply(knowledge, reply))
    return EXIT_OK


# A line is cut to what the engine reads anyway; UTF-8 needs at most 4 bytes a character.
_MAX_LINE_BYTES = 4 * MAX_INPUT_CHARS


def questions_in(stream: BinaryIO) -> Iterator[str]:
    """One question per line of `stream`, as any bytes: invalid UTF-8 becomes U+FFFD, and each line
    is cut to `MAX_INPUT_CHARS` without ever holding the rest of a long line."""
    while line := stream.readline(_MAX_LINE_BYTES):
        if not line.endswith(b"\n"):
            rest = line
            while rest and not rest.endswith(b"\n"):  # skip the rest of an overlong line
                rest = stream.readline(_MAX_LINE_BYTES)
        text = line.decode("utf-8", errors="replace")[:MAX_INPUT_CHARS]
        yield text.rstrip("\r\n")


def cmd_match(args: argparse.Namespace) -> int:
    engine = _engine(_settings(args))
    out = sys.stdout.buffer  # UTF-8 whatever the locale says
    for question in questions_in(sys.stdin.buffer):
        out.write(json.dumps(engine.ask(question).result.to_dict(), ensure_ascii=False).encode() + b"\n")
        out.flush()
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    paths = [Path(p) for p in args.paths] or [settings.knowledge_dir]
    base = None
    if args.paths and not any(Path(p).resolve() == settings.knowledge_dir.resolve() for p in args.paths):
        # Files checked on their own may cite the curated bibliography and entries.
        base, _ = validate_paths([settings.knowledge_dir]) if settings.knowledge_dir.is_dir() else (None, [])
    kb, problems = validate_paths(paths, base)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"ok: {len(kb.myths)} myths, {len(kb.exercises)} exercises, {len(kb.sources)} sources", file=sys.stderr)
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    kb = _engine(_settings(args)).kb
    data = {
        "myths": [e.model_dump(mode="json") for e in kb.myths],
        "exercises": [e.model_dump(mode="json") for e in kb.exercises],
        "sources": [s.model_dump(mode="json") | {"link": s.link} for s in kb.sources.values()],
    }
    print(json.dumps(data, ensure_ascii=False, indent=None if args.json else 2))
    return EXIT_OK


def cmd_exercise(args: argparse.Namespace) -> int:
    knowledge = _engine(_settings(args)).for_guild(None)
    exercise = knowledge.find_exercise(args.name)
    if exercise is None:
        suggestions = knowledge.exercise_suggestions(args.name)
        if args.json:
            _print_json({"name": args.name, "exercise": None, "suggestions": suggestions})
        else:
            print(f"No exercise clearly matches {args.name!r}. Did you mean: {', '.join(suggestions)}?")
        return EXIT_PROBLEMS
    view = knowledge.view(exercise.id)
    assert view is not None
    print(json.dumps(view.to_dict(), ensure_ascii=False) if args.json else as_text(view))
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    engine = _engine(_settings(args))
    sets: dict[str, list[Ranked]] = {}
    for file in args.files:
        try:
            questions = load_eval_set(Path(file))
        except EvalSetError as exc:
            raise CommandError(str(exc)) from None
        sets[file] = rank_all(engine, questions)
    reports = [score(ranked, engine.settings, name, engine.kb.entries) for name, ranked in sets.items()]
    if args.cv or args.tune:
        reports += cross_validate(sets, engine.settings).values()
    if args.json:
        print(as_json(reports))
    else:
        mode = "fused fuzzy + semantic" if engine.matcher.semantic else "fuzzy only"
        thresholds = ", ".join(f"{k} {v:g}" for k, v in engine.settings.thresholds().items())
        print(f"scorer: {mode}; thresholds: {thresholds}")
        print("\n".join(report.summary(verbose=args.verbose) for report in reports))
    if args.tune:
        tuned = tune(list(sets.values()), engine.settings)
        print("tuned on all sets: " + ", ".join(f"{k} {v:g}" for k, v in tuned.thresholds().items()
                                                if k != "passive_threshold"), file=sys.stderr)
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    settings = _settings(args)
    target = settings.knowledge_dir / "schema.json"
    if args.check:
        if not check_schema(target):
            print(f"{target} is out of date: run `mythbot schema`", file=sys.stderr)
            return EXIT_PROBLEMS
        print(f"{target} is up to date", file=sys.stderr)
        return EXIT_OK
    write_schema(target)
    print(f"wrote {target}", file=sys.stderr)
    return EXIT_OK


def cmd_chat(args: argparse.Namespace) -> int:
    return chat_fallback(_settings(args))


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if settings.token is None:
        print("No DISCORD_TOKEN is set, so the Discord bot cannot start. "
              "Copy .env.example to .env and set it (see README).", file=sys.stderr)
        if not sys.stdin.isatty():
            print("stdin is not a terminal, so there is no console chat either; exiting.", file=sys.stderr)
            return EXIT_OK
        print("Opening the console chat on the same engine instead.\n", file=sys.stderr)
        return chat_fallback(settings)
    if problem := settings.token_problem() or settings.shard_problem():
        raise CommandError(problem)
    from bot.discord_app import StartupError, check_data_dir, run_bot

    try:
        check_data_dir(settings.data_dir)  # before anything writes there (the engine's cache included)
        engine = _engine(settings)  # a broken knowledge base stops start-up here, with every problem listed
        return run_bot(settings, engine)
    except StartupError as exc:
        raise CommandError(str(exc)) from None


def chat_fallback(settings: Settings) -> int:
    from bot.console import chat

    return chat(_engine(settings), settings)


def cmd_sync(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if settings.token is None:
        raise CommandError("DISCORD_TOKEN is not set: syncing slash commands needs the bot's token")
    if problem := settings.token_problem():
        raise CommandError(problem)
    from bot.discord_app import StartupError, sync_commands

    try:
        return sync_commands(settings, guild_id=args.guild)
    except StartupError as exc:
        raise CommandError(str(exc)) from None


def package_version() -> str:
    """The installed distribution's version, or pyproject.toml's when running from an uninstalled checkout."""
    try:
        return metadata.version("mythbot")
    except metadata.PackageNotFoundError:
        pass
    try:
        with (PROJECT_ROOT / "pyproject.toml").open("rb") as file:
            return str(tomllib.load(file)["project"]["version"])
    except (OSError, tomllib.TOMLDecodeError, KeyError):
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--knowledge", metavar="DIR", default=argparse.SUPPRESS,
                        help="knowledge directory (default: MYTHBOT_KNOWLEDGE_DIR)")
    common.add_argument("--data", metavar="DIR", default=argparse.SUPPRESS,
                        help="data directory (default: MYTHBOT_DATA_DIR or ./data)")
    parser = argparse.ArgumentParser(prog="mythbot", parents=[common],
                                     description="Evidence-based answers to fitness myths, on Discord or here.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, handler: Handler | None, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    p = command("run", cmd_run, "run the Discord bot (console chat when no DISCORD_TOKEN is set)")
    p.add_argument("--shard-count", type=int, metavar="N",
                   help="shards across every process (default: MYTHBOT_SHARD_COUNT; unset: no shards)")
    p.add_argument("--shard-ids", metavar="IDS",
                   help="comma-separated shards this process runs, e.g. 0,1 (default: MYTHBOT_SHARD_IDS, else all)")
    command("chat", cmd_chat, "chat with the bot in this terminal")
    p = command("ask", cmd_ask, "answer one question")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p = command("match", cmd_match, "match one question per stdin line; one JSON object per output line")
    p.add_argument("--json", action="store_true", required=True, help="JSON lines out (the only format)")
    p = command("validate", cmd_validate, "check knowledge files; exit 1 and list problems as file:line: message")
    p.add_argument("paths", nargs="*", metavar="PATH")
    p = command("export", cmd_export, "print the loaded knowledge base as JSON")
    p.add_argument("--json", action="store_true", help="compact JSON (the default is indented)")
    p = command("exercise", cmd_exercise, "look up an exercise")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p = command("eval", cmd_eval, "score the matcher on labelled question files")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true")
    p.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    p.add_argument("--cv", action="store_true", help="also print figures with thresholds cross-validated (5 folds)")
    p.add_argument("--tune", action="store_true", help="also print the thresholds that do best on all the files")
    p = command("schema", cmd_schema, "write knowledge/schema.json from the models (or --check it)")
    p.add_argument("--check", action="store_true")
    p = command("sync", cmd_sync, "sync slash commands with Discord (globally, or to one guild)")
    p.add_argument("--guild", type=int, metavar="ID")
    add_report_commands(command, common)
    add_db_commands(command("db", None, "PostgreSQL: upgrade the schema, import a data dir into it, export it back"))
    parser.set_defaults(handler=cmd_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except CommandError as exc:
        print(f"mythbot: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
