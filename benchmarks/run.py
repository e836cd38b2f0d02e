"""Benchmarks, each figure a ratio against a baseline measured in the same run (machines are noisy).

    python -m benchmarks.run            # shipped base, 1k, 10k and 100k phrasings, 20k-entry cold start
    python -m benchmarks.run --quick    # smaller sizes, for a smoke run
"""

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rapidfuzz import fuzz, process, utils

from benchmarks.generate import PHRASINGS_PER_ENTRY, generate
from bot.engine.engine import Engine
from bot.engine.evaluate import load_eval_set
from bot.engine.knowledge import load_knowledge
from bot.engine.schema import MythEntry

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [item.question for item in load_eval_set(ROOT / "tests" / "eval" / "questions.yaml")]


def per_question(fn, questions: list[str], repeats: int) -> float:
    """Median seconds per question over `repeats` passes."""
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for question in questions:
            fn(question)
        runs.append((time.perf_counter() - start) / len(questions))
    return statistics.median(runs)


def matching_row(name: str, knowledge: Path, repeats: int) -> dict:
    engine = Engine(load_knowledge(knowledge))
    phrasings = [text for entry in engine.kb.entries.values() for text in entry.phrasings]
    bare = per_question(lambda q: process.extractOne(q, phrasings, scorer=fuzz.WRatio,
                                                     processor=utils.default_process), QUESTIONS, repeats)
    ours = per_question(engine.ask, QUESTIONS, repeats)
    entry = MythEntry(id="bench-added", title="Benchmark entry", verdict="myth", evidence="limited",
                      answer="x", questions=["a freshly added benchmark question", "another new phrasing"])
    start = time.perf_counter()
    engine.matcher.index.add(entry)
    add = time.perf_counter() - start
    answerable = engine.ask("a freshly added benchmark question").result.entry == "bench-added"
    return {"base": name, "phrasings": len(phrasings), "bare_ms": bare * 1e3, "ours_ms": ours * 1e3,
            "ratio": ours / bare, "add_ms": add * 1e3, "add_vs_one_question": add / bare,
            "added_answerable": answerable}


def cold_start(knowledge: Path) -> dict:
    """Seconds to import, load, validate and index in a fresh process, and its peak RSS, vs a bare parse."""
    ours = _measure("import pathlib; from bot.engine.engine import Engine; "
                    f"Engine.from_dir(pathlib.Path({str(knowledge)!r}))")
    bare = _measure("import yaml, pathlib; [yaml.load(p.read_text(), Loader=yaml.CSafeLoader) "
                    f"for p in pathlib.Path({str(knowledge)!r}).glob('*.yaml')]")
    return {"seconds": ours["seconds"], "bare_yaml_seconds": bare["seconds"],
            "ratio": ours["seconds"] / bare["seconds"], "peak_rss_mb": ours["rss_mb"], "bare_rss_mb": bare["rss_mb"]}


def _measure(code: str) -> dict:
    # VmHWM (peak RSS) starts afresh at exec; ru_maxrss would carry over the parent's peak.
    peak = ("[int(line.split()[1]) / 1024 for line in open('/proc/self/status') if line.startswith('VmHWM')][0]")
    script = f"import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t, {peak})"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, cwd=ROOT)
    if out.returncode:
        raise RuntimeError(f"benchmark child failed:\n{out.stderr[-2000:]}")
    seconds, rss = out.stdout.split()
    return {"seconds": float(seconds), "rss_mb": float(rss)}


def match_throughput(knowledge: Path, lines: int) -> dict:
    """`mythbot match --json` over `lines` questions vs a bare extractOne loop in a fresh process."""
    questions = "\n".join(QUESTIONS[i % len(QUESTIONS)] for i in range(lines)) + "\n"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bot", "match", "--json", "--knowledge", str(knowledge)], input=questions,
                   capture_output=True, text=True, check=True, cwd=ROOT)
    ours = time.perf_counter() - start
    return {"lines": lines, "seconds": ours, "lines_per_second": lines / ours}


async def _loop_lag(engine: Engine | None, messages: int, tick: float = 0.005) -> float:
    """Worst lateness (s) of a 5 ms ticker while `messages` questions are answered as the cog does it."""
    worst = 0.0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal worst
        loop = asyncio.get_running_loop()
        while not done.is_set():
            start = loop.time()
            await asyncio.sleep(tick)
            worst = max(worst, loop.time() - start - tick)

    ticking = asyncio.create_task(ticker())
    if engine is None:
        await asyncio.sleep(0.5)
    else:
        questions = [QUESTIONS[i % len(QUESTIONS)] for i in range(messages)]
        await asyncio.gather(*(asyncio.to_thread(engine.ask, q) for q in questions))
    done.set()
    await ticking
    return worst


def loop_lag(knowledge: Path, messages: int = 500) -> dict:
    engine = Engine(load_knowledge(knowledge))
    idle = asyncio.run(_loop_lag(None, 0))
    flood = asyncio.run(_loop_lag(engine, messages))
    return {"messages": messages, "idle_ms": idle * 1e3, "flood_ms": flood * 1e3,
            "heartbeat_budget_ms": 41_250.0, "share_of_heartbeat": flood / 41.25}


def table(rows: list[dict], columns: list[str]) -> str:
    def cell(value):
        return f"{value:.3f}" if isinstance(value, float) else str(value)

    lines = [" | ".join(columns), " | ".join("---" for _ in columns)]
    lines += [" | ".join(cell(row[c]) for c in columns) for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="Mythbot benchmarks")
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat: a smoke run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = (1_000, 5_000) if args.quick else (1_000, 10_000, 100_000)
    repeats = 1 if args.quick else 3
    results: dict = {"matching": [], "cold_start": {}}
    with tempfile.TemporaryDirectory() as tmp:
        results["matching"].append(matching_row("shipped", ROOT / "knowledge", repeats))
        results["cold_start"]["shipped"] = cold_start(ROOT / "knowledge")
        for size in sizes:
            base = generate(Path(tmp) / f"kb{size}", size)
            results["matching"].append(matching_row(f"generated {size:,}", base, repeats))
            results["cold_start"][f"{size:,} phrasings"] = cold_start(base)
        entries = 2_000 if args.quick else 20_000
        big = generate(Path(tmp) / "cold", entries * PHRASINGS_PER_ENTRY)
        results["cold_start"][f"{entries:,} entries"] = cold_start(big)
        results["match_json"] = match_throughput(ROOT / "knowledge", 1_000)
        results["loop_lag"] = loop_lag(ROOT / "knowledge")
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print("Per question: our matcher vs bare extractOne (WRatio, default_process) over the same phrasings")
    print(table(results["matching"], ["base", "phrasings", "bare_ms", "ours_ms", "ratio", "add_ms",
                                      "add_vs_one_question", "added_answerable"]))
    print("\nCold start in a fresh process (import, load, validate, index) vs a bare YAML parse")
    rows = [{"base": name, **row} for name, row in results["cold_start"].items()]
    print(table(rows, ["base", "seconds", "bare_yaml_seconds", "ratio", "peak_rss_mb", "bare_rss_mb"]))
    lag = results["loop_lag"]
    print(f"\nEvent loop while {lag['messages']} messages are answered off the loop: worst tick lateness "
          f"{lag['flood_ms']:.1f} ms (idle {lag['idle_ms']:.1f} ms), {lag['share_of_heartbeat']:.4%} of the "
          "41.25 s heartbeat interval")
    m = results["match_json"]
    print(f"\nmatch --json: {m['lines']} questions in {m['seconds']:.2f} s ({m['lines_per_second']:.0f}/s, "
          "process start included)")


if __name__ == "__main__":
    main()
