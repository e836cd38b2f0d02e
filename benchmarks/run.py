"""Benchmarks, each figure a ratio against a baseline measured in the same run (machines are noisy).

    python -m benchmarks.run            # shipped base; 1k / 10k / 100k phrasings, sparse and Zipf-like
    python -m benchmarks.run --quick    # smaller sizes, for a smoke run
    python -m benchmarks.run --storage  # also PostgreSQL against the file backend (benchmarks/storage.py)
"""

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rapidfuzz import fuzz, process, utils

from benchmarks.generate import ZipfWords, generate
from bot.engine.engine import Engine
from bot.engine.evaluate import load_eval_set
from bot.engine.knowledge import load_knowledge
from bot.engine.schema import MythEntry

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [item.question for item in load_eval_set(ROOT / "tests" / "eval" / "questions.yaml")]
LONG_QUESTION = " ".join(QUESTIONS)[:2000]  # a 2,000-character message made of the base's own words


def per_question(fn, questions: list[str], repeats: int) -> float:
    """Median seconds per question over `repeats` passes."""
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for question in questions:
            fn(question)
        runs.append((time.perf_counter() - start) / len(questions))
    return statistics.median(runs)


def common_word_questions(knowledge: Path, count: int = 60, seed: int = 3) -> list[str]:
    """Questions made of the base's most common words, the hardest case for a word prefilter."""
    words = ZipfWords(random.Random(seed), knowledge_dir=ROOT / "knowledge", tail=0)
    return [" ".join(words.sample(random.Random(seed + i).randint(4, 9))) for i in range(count)]


def matching_row(name: str, knowledge: Path, repeats: int, questions: list[str] | None = None) -> dict:
    engine = Engine(load_knowledge(knowledge))
    questions = questions or QUESTIONS
    phrasings = [text for entry in engine.kb.entries.values() for text in entry.phrasings]
    sample = questions[: max(10, len(questions) // 4)]
    bare = per_question(lambda q: process.extractOne(q, phrasings, scorer=fuzz.WRatio,
                                                     processor=utils.default_process), sample, 1)
    ours = per_question(engine.ask, questions, repeats)
    long_ms = per_question(engine.ask, [LONG_QUESTION], repeats) * 1e3
    entry = MythEntry(id="bench-added", title="Benchmark entry", verdict="myth", evidence="limited",
                      answer="x", questions=["a freshly added benchmark question", "another new phrasing"])
    start = time.perf_counter()
    engine.matcher.index.add(entry)
    add = time.perf_counter() - start
    answerable = engine.ask("a freshly added benchmark question").result.entry == "bench-added"
    return {"base": name, "phrasings": len(phrasings), "bare_ms": bare * 1e3, "ours_ms": ours * 1e3,
            "ratio": ours / bare, "long_2000_chars_ms": long_ms, "long_vs_bare": long_ms / (bare * 1e3),
            "add_ms": add * 1e3, "add_vs_one_question": add / bare, "added_answerable": answerable}


def semantic_row(repeats: int) -> dict:
    """The shipped base with the semantic scorer on (real model) against fuzzy alone, same questions."""
    from bot.engine.embeddings import SemanticUnavailable, shared_embedder
    from bot.engine.matcher import FUSED_DEFAULTS

    try:
        embedder = shared_embedder()
    except SemanticUnavailable as exc:
        return {"skipped": str(exc)}
    kb = load_knowledge(ROOT / "knowledge")
    start = time.perf_counter()
    fused = Engine(kb, FUSED_DEFAULTS, embedder)
    embed_all = time.perf_counter() - start
    fuzzy = Engine(kb)
    fuzzy_s = per_question(fuzzy.ask, QUESTIONS, repeats)
    fused_s = per_question(fused.ask, QUESTIONS, repeats)
    long_s = per_question(fused.ask, [LONG_QUESTION], repeats)
    return {"phrasings": len(fused.matcher.index), "fuzzy_ms": fuzzy_s * 1e3, "fused_ms": fused_s * 1e3,
            "fused_vs_fuzzy": fused_s / fuzzy_s, "long_2000_chars_ms": long_s * 1e3,
            "embed_whole_base_s": embed_all}


def start_up(knowledge: Path, semantic: bool) -> dict:
    """A fresh process building the engine as `mythbot` does: first with an empty cache dir, then warm."""
    with tempfile.TemporaryDirectory() as data:
        code = ("import pathlib; from bot.settings import load_settings; from bot.engine_setup import build_engine; "
                f"build_engine(load_settings(knowledge_dir=pathlib.Path({str(knowledge)!r}), "
                f"data_dir=pathlib.Path({data!r}), semantic={semantic}))")
        cold = _measure(code)
        warm = _measure(code)
    bare = _measure("import yaml, pathlib; [yaml.load(p.read_text(), Loader=yaml.CSafeLoader) "
                    f"for p in pathlib.Path({str(knowledge)!r}).rglob('*.yaml')]")
    return {"cold_s": cold["seconds"], "warm_s": warm["seconds"], "bare_yaml_s": bare["seconds"],
            "warm_vs_bare": warm["seconds"] / bare["seconds"], "cold_vs_bare": cold["seconds"] / bare["seconds"],
            "warm_rss_mb": warm["rss_mb"], "cold_rss_mb": cold["rss_mb"], "bare_rss_mb": bare["rss_mb"]}


def _measure(code: str) -> dict:
    # VmHWM (peak RSS) starts afresh at exec; ru_maxrss would carry over the parent's peak.
    peak = ("[int(line.split()[1]) / 1024 for line in open('/proc/self/status') if line.startswith('VmHWM')][0]")
    script = f"import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t, {peak})"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, cwd=ROOT)
    if out.returncode:
        raise RuntimeError(f"benchmark child failed:\n{out.stderr[-2000:]}")
    seconds, rss = out.stdout.split()[-2:]
    return {"seconds": float(seconds), "rss_mb": float(rss)}


def match_throughput(knowledge: Path, lines: int) -> dict:
    """`mythbot match --json` over `lines` questions in a fresh process (start-up included)."""
    questions = "\n".join(QUESTIONS[i % len(QUESTIONS)] for i in range(lines)) + "\n"
    with tempfile.TemporaryDirectory() as data:
        command = [sys.executable, "-m", "bot", "match", "--json", "--knowledge", str(knowledge), "--data", data]
        subprocess.run(command, input="warm up\n", capture_output=True, text=True, check=True, cwd=ROOT)
        start = time.perf_counter()
        subprocess.run(command, input=questions, capture_output=True, text=True, check=True, cwd=ROOT)
    ours = time.perf_counter() - start
    return {"lines": lines, "seconds": ours, "lines_per_second": lines / ours}


async def _loop_lateness(engine: Engine | None, messages: int, tick: float = 0.005) -> list[float]:
    """Lateness (s) of every tick of a 5 ms ticker while `messages` questions are answered as the bot does."""
    from bot.workers import Workers

    lateness: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        loop = asyncio.get_running_loop()
        while not done.is_set():
            start = loop.time()
            await asyncio.sleep(tick)
            lateness.append(max(0.0, loop.time() - start - tick))

    ticking = asyncio.create_task(ticker())
    workers = Workers()
    try:
        if engine is None:
            await asyncio.sleep(0.5)
        else:
            questions = [QUESTIONS[i % len(QUESTIONS)] for i in range(messages)]
            await asyncio.gather(*(workers.match(engine.ask, q) for q in questions))
    finally:
        done.set()
        await ticking
        workers.close()
    return lateness


def loop_lag(engine: Engine, messages: int = 500) -> dict:
    idle = asyncio.run(_loop_lateness(None, 0))
    busy = sorted(asyncio.run(_loop_lateness(engine, messages)))
    p99 = busy[int(0.99 * (len(busy) - 1))] if busy else 0.0
    return {"messages": messages, "idle_worst_ms": max(idle) * 1e3, "worst_ms": busy[-1] * 1e3,
            "p99_ms": p99 * 1e3, "ticks": len(busy)}


def table(rows: list[dict], columns: list[str]) -> str:
    def cell(value):
        return f"{value:.3f}" if isinstance(value, float) else str(value)

    lines = [" | ".join(columns), " | ".join("---" for _ in columns)]
    lines += [" | ".join(cell(row.get(c, "")) for c in columns) for row in rows]
    return "\n".join(lines)


def run(quick: bool, storage: bool = False) -> dict:
    sizes = (1_000, 5_000) if quick else (1_000, 10_000, 100_000)
    repeats = 1 if quick else 3
    results: dict = {"matching": [], "start_up": {}}
    with tempfile.TemporaryDirectory() as tmp:
        results["matching"].append(matching_row("shipped", ROOT / "knowledge", repeats))
        results["start_up"]["shipped (fuzzy)"] = start_up(ROOT / "knowledge", semantic=False)
        results["start_up"]["shipped (semantic)"] = start_up(ROOT / "knowledge", semantic=True)
        for size in sizes:
            sparse = generate(Path(tmp) / f"kb{size}", size)
            results["matching"].append(matching_row(f"sparse {size:,}", sparse, repeats))
            zipf = generate(Path(tmp) / f"zipf{size}", size, zipf=True)
            results["matching"].append(matching_row(f"zipf {size:,}", zipf, repeats,
                                                    QUESTIONS[:60] + common_word_questions(zipf)))
            results["start_up"][f"zipf {size:,} (fuzzy)"] = start_up(zipf, semantic=False)
        results["semantic"] = semantic_row(repeats)
        results["match_json"] = match_throughput(ROOT / "knowledge", 1_000)
        results["loop_lag"] = loop_lag(Engine(load_knowledge(ROOT / "knowledge")))
    if storage:
        from benchmarks import storage as storage_benchmarks

        results["storage"] = storage_benchmarks.run(storage_benchmarks.QUICK if quick else storage_benchmarks.FULL)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description="Mythbot benchmarks")
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat: a smoke run")
    parser.add_argument("--storage", action="store_true",
                        help="also the storage benchmarks: PostgreSQL against the file backend (minutes more)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = run(args.quick, args.storage)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print("Per question: our matcher (fuzzy) vs bare extractOne (WRatio, default_process) over the same phrasings")
    print(table(results["matching"], ["base", "phrasings", "bare_ms", "ours_ms", "ratio", "long_2000_chars_ms",
                                      "long_vs_bare", "add_ms", "added_answerable"]))
    print("\nStart-up in a fresh process (as `mythbot` builds the engine) vs a bare YAML parse, peak RSS")
    rows = [{"base": name, **row} for name, row in results["start_up"].items()]
    print(table(rows, ["base", "cold_s", "warm_s", "bare_yaml_s", "warm_vs_bare", "cold_rss_mb", "warm_rss_mb",
                       "bare_rss_mb"]))
    print("\nSemantic scorer on the shipped base (real model):", json.dumps(results["semantic"]))
    lag = results["loop_lag"]
    print(f"\nEvent loop while {lag['messages']} questions are answered in the matching pool: worst tick "
          f"lateness {lag['worst_ms']:.1f} ms, 99th percentile {lag['p99_ms']:.1f} ms (idle worst "
          f"{lag['idle_worst_ms']:.1f} ms)")
    m = results["match_json"]
    print(f"\nmatch --json: {m['lines']} questions in {m['seconds']:.2f} s ({m['lines_per_second']:.0f}/s, "
          "process start included)")
    if "storage" in results:
        from benchmarks.storage import report

        print("\nStorage: PostgreSQL against the file backend (benchmarks/storage.py)")
        print(report(results["storage"]))


if __name__ == "__main__":
    main()
