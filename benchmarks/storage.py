"""Storage benchmarks: PostgreSQL as a ratio to the file backend (YAML + SQLite), measured in the same run.

    python -m benchmarks.storage            # 1,000 and 10,000 servers of 20 entries each (about 10 minutes)
    python -m benchmarks.storage --quick    # 100 and 1,000 servers
    python -m benchmarks.run --storage      # the same, after the matching benchmarks

- **add**: a moderator's add (`FaqStore.apply(add_entry_op(...))`), each in a server holding 20 entries.
- **answer**: `engine.ask(question, scope=store.scope_for(server))` on the shipped knowledge (fuzzy
  scorer), the first answer in each server (which indexes its entries) and later ones.
- **start-up**: a fresh process holding N servers' entries: `load_all()` time and peak RSS, beside the
  same process with no servers, and how both grow from the smaller N to the larger.

PostgreSQL is a throwaway cluster started as the tests start theirs (`tests/pg.py`), on the same disk
as the data dir. It is filled with `mythbot db import` from the generated data dir with fsync off (as
in the tests), then switched to fsync, synchronous commits and full-page writes on before any add is
timed, because the file backend fsyncs every write. Entries are generated from a fixed seed.
"""

import argparse
import asyncio
import contextlib
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import yaml

from benchmarks.generate import synthetic_word, vocabulary
from bot.engine.engine import Engine
from bot.engine.evaluate import load_eval_set
from bot.engine.knowledge import KnowledgeBase, load_knowledge
from bot.engine.schema import MythEntry, Stewardship, slugify
from bot.storage.base import Actor, FaqStore
from bot.storage.factory import open_storage
from bot.storage.guild_file import GUILD_HEADER, GuildFile
from bot.storage.guild_store import GUILDS_DIR
from bot.storage.operations import add_entry_op
from bot.storage.transfer import import_data_dir

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
SEED = 16
ENTRIES_PER_SERVER = 20
DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}  # all reloadable
ACTOR = Actor(1, "benchmark")


@dataclass(frozen=True)
class Sizes:
    servers: tuple[int, int]  # start-up and memory at each
    entries: int  # per server
    adds: int  # timed adds (one server each)
    answer_servers: int  # servers whose answers are timed
    questions: int  # curated questions asked in each of them


FULL = Sizes(servers=(1_000, 10_000), entries=ENTRIES_PER_SERVER, adds=40, answer_servers=20, questions=40)
QUICK = Sizes(servers=(100, 1_000), entries=ENTRIES_PER_SERVER, adds=20, answer_servers=10, questions=20)


# --- generated servers ---------------------------------------------------------------------------------------


class EntryMaker:
    """Valid moderator entries that collide with nothing curated: two made-up topic words each, the rest
    of the text from the shipped vocabulary."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.words = vocabulary(KNOWLEDGE)
        self.created_at = datetime(2026, 1, 1, tzinfo=UTC)

    def entry(self) -> MythEntry:
        rng = self.rng
        topic = f"{synthetic_word(rng)} {synthetic_word(rng)}"
        title = f"Does {topic} work?"
        answer = " ".join(rng.choices(self.words, k=45)).capitalize() + "."
        return MythEntry(
            id=slugify(title), title=title, verdict=rng.choice(["myth", "true", "partly true", "depends"]),
            evidence=rng.choice(["limited", "expert opinion"]), answer=answer,
            questions=[f"does {topic} work", f"is {topic} a myth", f"{topic} for {rng.choice(self.words)}"],
            links=[f"https://example.org/{slugify(topic)}"],
            stewardship=Stewardship(created_by=f"moderator ({rng.randrange(10**17, 10**18)})",
                                    created_at=self.created_at))

    def server(self, entries: int) -> GuildFile:
        return GuildFile(myths=[self.entry() for _ in range(entries)])


def server_ids(count: int, seed: int = SEED) -> list[int]:
    """Distinct snowflake-sized ids (they fit PostgreSQL's bigint)."""
    rng = random.Random(seed)
    ids: dict[int, None] = {}
    while len(ids) < count:
        ids[rng.randrange(10**17, 9 * 10**18)] = None
    return list(ids)


def guild_text(content: GuildFile) -> str:
    """The guild file the bot would write, emitted by libyaml: the same data as `to_yaml` (which takes
    40 ms a server in pure Python), with list items not indented under their key."""
    data = {"myths": [entry.model_dump(mode="json", exclude_defaults=True) for entry in content.myths]}
    return GUILD_HEADER + yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True, width=100)


def write_data_dir(directory: Path, servers: int, entries: int, seed: int = SEED) -> list[int]:
    """A data dir of `servers` guild files; the same arguments give the same servers."""
    guilds = directory / GUILDS_DIR
    guilds.mkdir(parents=True, exist_ok=True)
    maker = EntryMaker(seed)
    ids = server_ids(servers, seed)
    for guild_id in ids:
        (guilds / f"{guild_id}.yaml").write_text(guild_text(maker.server(entries)), encoding="utf-8")
    return ids


def copy_servers(source: Path, target: Path, servers: list[int]) -> list[int]:
    (target / GUILDS_DIR).mkdir(parents=True)
    for guild_id in servers:
        shutil.copyfile(source / GUILDS_DIR / f"{guild_id}.yaml", target / GUILDS_DIR / f"{guild_id}.yaml")
    return servers


# --- PostgreSQL ------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def postgres_server(admin_dsn: str | None = None) -> Iterator[str | None]:
    """An admin DSN: the one given, or a throwaway cluster's (tests/pg.py); None when there is no PostgreSQL."""
    if admin_dsn:
        yield admin_dsn
        return
    from tests import pg  # the test fixture's cluster code (needs the test extra's pytest)

    try:
        with pg.running_cluster() as cluster:
            yield cluster.dsn()
    except pg.PostgresUnavailable as missing:
        print(f"PostgreSQL benchmarks skipped: {missing}", file=sys.stderr)
        yield None


@contextlib.contextmanager
def database(admin_dsn: str, name: str) -> Iterator[str]:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_dsn.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_settings(admin_dsn: str, settings: dict[str, str]) -> dict[str, str]:
    """Apply reloadable settings to the whole server; returns what they were."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        before = {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in settings}
        for name, value in settings.items():
            conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        conn.execute("SELECT pg_reload_conf()")
    return before


async def fill(data_dir: Path, dsn: str) -> None:
    report = await import_data_dir(data_dir, dsn)
    if report.problems:
        raise RuntimeError(f"import refused generated data: {report.problems[:3]}")
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await conn.execute("VACUUM ANALYZE")


# --- (a) adds and (b) answers ---------------------------------------------------------------------------------


async def _open(data_dir: Path, dsn: str | None, kb: KnowledgeBase) -> FaqStore:
    faq, records = await open_storage(data_dir, dsn, lambda: kb)
    await records.close()
    await faq.load_all()
    return faq


async def add_latencies(faq: FaqStore, servers: list[int], maker: EntryMaker) -> list[float]:
    """Seconds per add, one add in each server."""
    seconds = []
    for guild_id in servers:
        entry = maker.entry()
        start = time.perf_counter()
        change = await faq.apply(guild_id, add_entry_op(entry, ACTOR))
        seconds.append(time.perf_counter() - start)
        assert change.action == "add" and faq.scope_for(guild_id).entries.get(change.entry_id) is not None
    return seconds


def answer_latencies(faq: FaqStore, engine: Engine, servers: list[int], questions: list[str]) -> dict[str, float]:
    """Median seconds of the first answer in each server (which indexes its entries) and of the later ones."""
    first, later = [], []
    for guild_id in servers:
        scope = faq.scope_for(guild_id)
        own = [text for entry in scope.entries.values() for text in entry.questions][:5]
        for i, question in enumerate([*questions, *own]):
            start = time.perf_counter()
            engine.ask(question, scope=scope)
            (first if i == 0 else later).append(time.perf_counter() - start)
    return {"first_ms": statistics.median(first) * 1e3, "later_ms": statistics.median(later) * 1e3}


async def latencies(data_dir: Path, dsn: str | None, servers: list[int], sizes: Sizes, kb: KnowledgeBase,
                    questions: list[str]) -> dict:
    faq = await _open(data_dir, dsn, kb)
    try:
        answers = answer_latencies(faq, Engine(kb), servers[: sizes.answer_servers], questions)
        adds = await add_latencies(faq, servers[: sizes.adds], EntryMaker(SEED + 1))
    finally:
        await faq.close()
    return {"add_ms": statistics.median(adds) * 1e3, "answer_first_ms": answers["first_ms"],
            "answer_ms": answers["later_ms"]}


# --- (c) start-up and memory in a fresh process ------------------------------------------------------------

LOAD_CHILD = """
import asyncio, json, pathlib, sys, time
from bot.engine.knowledge import load_knowledge
from bot.storage.factory import open_storage

def status(field):
    return [int(line.split()[1]) / 1024 for line in open("/proc/self/status") if line.startswith(field)][0]

kb = load_knowledge(pathlib.Path({knowledge!r}))
servers = json.loads(sys.stdin.read())

async def main():
    faq, records = await open_storage(pathlib.Path({data!r}), {dsn!r}, lambda: kb)
    await records.close()
    before = status("VmRSS")
    start = time.perf_counter()
    problems = await faq.load_all()
    seconds = time.perf_counter() - start
    held = sum(faq.scope_for(g) is not None for g in servers)
    await faq.close()
    return {{"load_s": seconds, "rss_before_mb": before, "peak_rss_mb": status("VmHWM"),
             "rss_mb": status("VmRSS"), "servers_held": held, "problems": len(problems)}}

print(json.dumps(asyncio.run(main())))
"""


def load_in_fresh_process(data_dir: Path, dsn: str | None, servers: list[int]) -> dict:
    code = LOAD_CHILD.format(knowledge=str(KNOWLEDGE), data=str(data_dir), dsn=dsn)
    out = subprocess.run([sys.executable, "-c", code], input=json.dumps(servers), capture_output=True, text=True,
                         check=False, cwd=ROOT)
    if out.returncode:
        raise RuntimeError(f"benchmark child failed:\n{out.stderr[-2000:]}")
    row = json.loads(out.stdout.splitlines()[-1])
    if row["servers_held"] != len(servers) or row["problems"]:
        raise RuntimeError(f"the store loaded {row['servers_held']} of {len(servers)} servers, "
                           f"{row['problems']} problem(s)")
    return row


# --- the run ---------------------------------------------------------------------------------------------


def run(sizes: Sizes = FULL, admin_dsn: str | None = None, *, postgres: bool = True) -> dict:
    """Every figure for the file backend and (when PostgreSQL can run) for PostgreSQL, and their ratios.

    `admin_dsn`: a PostgreSQL server to create the bench_* databases in; default, a throwaway cluster."""
    kb = load_knowledge(KNOWLEDGE)
    questions = [item.question for item in load_eval_set(ROOT / "tests" / "eval" / "questions.yaml")]
    questions = random.Random(SEED).sample(questions, sizes.questions)
    small, large = sizes.servers
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        admin = stack.enter_context(postgres_server(admin_dsn)) if postgres else None
        dirs = {n: tmp / f"data-{n}" for n in (0, small, large)}
        ids = {0: [], large: write_data_dir(dirs[large], large, sizes.entries)}
        ids[small] = copy_servers(dirs[large], dirs[small], ids[large][:small])
        dirs[0].mkdir()
        # Filled before the file backend's adds change the small data dir, so both start from the same servers.
        dsns = {n: stack.enter_context(database(admin, f"bench_{n}")) for n in dirs} if admin else None
        for n, dsn in (dsns or {}).items():
            asyncio.run(fill(dirs[n], dsn))
        results: dict = {"sizes": {"servers": [small, large], "entries_per_server": sizes.entries},
                         "file": _backend(dirs, ids, None, sizes, kb, questions)}
        if dsns:
            previous = server_settings(admin, DURABLE)
            try:
                results["postgres"] = _backend(dirs, ids, dsns, sizes, kb, questions)
            finally:
                server_settings(admin, previous)
    results["ratios"] = ratios(results)
    return results


def _backend(dirs: dict[int, Path], ids: dict[int, list[int]], dsns: dict[int, str] | None, sizes: Sizes,
             kb: KnowledgeBase, questions: list[str]) -> dict:
    """Start-up at each size first (in fresh processes), then adds and answers, which change the small set."""
    dsn = (lambda n: dsns[n]) if dsns else (lambda n: None)
    row: dict = {f"load_{n}": load_in_fresh_process(dirs[n], dsn(n), ids[n]) for n in dirs}
    small = sizes.servers[0]
    row.update(asyncio.run(latencies(dirs[small], dsn(small), ids[small], sizes, kb, questions)))
    return row


def servers_mb(backend: dict, n: int) -> float:
    """Memory the servers' entries hold once loaded: RSS after `load_all()` minus RSS just before it."""
    load = backend[f"load_{n}"]
    return load["rss_mb"] - load["rss_before_mb"]


def ratio(value: float, baseline: float) -> float:
    return value / baseline if baseline else float("nan")


def ratios(results: dict) -> dict:
    """How each backend grows from the small size to the large, and PostgreSQL against the files."""
    small, large = results["sizes"]["servers"]
    out: dict = {}
    for name in ("file", "postgres"):
        if name in results:
            backend = results[name]
            out[f"{name}_growth"] = {
                "load_s": ratio(backend[f"load_{large}"]["load_s"], backend[f"load_{small}"]["load_s"]),
                "servers_mb": ratio(servers_mb(backend, large), servers_mb(backend, small)),
                "peak_rss_mb": ratio(backend[f"load_{large}"]["peak_rss_mb"], backend[f"load_{small}"]["peak_rss_mb"]),
            }
    if "postgres" in results:
        pg, files = results["postgres"], results["file"]
        versus = {key: ratio(pg[key], files[key]) for key in ("add_ms", "answer_first_ms", "answer_ms")}
        for n in (small, large):
            versus[f"load_s_{n}"] = ratio(pg[f"load_{n}"]["load_s"], files[f"load_{n}"]["load_s"])
            versus[f"servers_mb_{n}"] = ratio(servers_mb(pg, n), servers_mb(files, n))
            versus[f"peak_rss_mb_{n}"] = ratio(pg[f"load_{n}"]["peak_rss_mb"], files[f"load_{n}"]["peak_rss_mb"])
        out["postgres_vs_file"] = versus
    return out


def report(results: dict) -> str:
    small, large = results["sizes"]["servers"]
    lines = [f"Servers of {results['sizes']['entries_per_server']} entries each; medians."]
    header = ["backend", "add ms", "first answer ms", "answer ms"]
    for n in (0, small, large):
        header += [f"load {n:,} s", f"peak RSS {n:,} MB", f"held {n:,} MB"]
    lines += [" | ".join(header), " | ".join("---" for _ in header)]
    for name in ("file", "postgres"):
        if name not in results:
            lines.append(f"{name} | skipped (no PostgreSQL here)")
            continue
        row = results[name]
        cells = [name, f"{row['add_ms']:.2f}", f"{row['answer_first_ms']:.2f}", f"{row['answer_ms']:.2f}"]
        for n in (0, small, large):
            load = row[f"load_{n}"]
            cells += [f"{load['load_s']:.3f}", f"{load['peak_rss_mb']:.0f}", f"{servers_mb(row, n):.0f}"]
        lines.append(" | ".join(cells))
    lines.append("")
    for name, figures in results["ratios"].items():
        lines.append(f"{name}: " + ", ".join(f"{key} {value:.2f}" for key, value in figures.items()))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="Storage benchmarks: PostgreSQL against the file backend")
    parser.add_argument("--quick", action="store_true", help="100 and 1,000 servers instead of 1,000 and 10,000")
    parser.add_argument("--database-url", metavar="URL", help="an admin URL of a PostgreSQL server to use "
                        "(creates and drops bench_* databases; default: a throwaway cluster)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = run(QUICK if args.quick else FULL, args.database_url)
    print(json.dumps(results, indent=2) if args.json else report(results))


if __name__ == "__main__":
    main()
