"""What one `mythbot run` process needs: memory (RSS) of a process that builds the bot as `run` does (curated
knowledge, engine, the Discord client, the servers' store) and answers questions, with and without the
semantic scorer. Nothing connects to Discord.

    python -m benchmarks.resources [--json]
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "tests" / "eval" / "questions.yaml"

# Runs in a fresh process: VmHWM (peak RSS) then covers this work alone.
CHILD = """
import json, pathlib, time
start = time.perf_counter()
from bot.discord_app import create_bot
from bot.engine.evaluate import load_eval_set
from bot.settings import load_settings
settings = load_settings(knowledge_dir=pathlib.Path({knowledge!r}), data_dir=pathlib.Path({data!r}),
                         semantic={semantic})
bot = create_bot(settings)
ready = time.perf_counter() - start
for item in load_eval_set(pathlib.Path({questions!r})):
    bot.engine.ask(item.question)
status = dict(line.split(":", 1) for line in open("/proc/self/status") if line.startswith(("VmHWM", "VmRSS")))
semantic_on = bot.engine.matcher.semantic
bot.records.close()
print(json.dumps({{"ready_s": ready, "semantic": semantic_on,
                  "peak_rss_mb": int(status["VmHWM"].split()[0]) / 1024,
                  "rss_mb": int(status["VmRSS"].split()[0]) / 1024}}))
"""


def bot_process(semantic: bool, knowledge: Path = ROOT / "knowledge", data: Path | None = None) -> dict:
    """Peak and final RSS (MB) of a bot process that answered the eval questions; `data` keeps its cache."""
    with tempfile.TemporaryDirectory() as scratch:
        code = CHILD.format(knowledge=str(knowledge), data=str(data or scratch), semantic=semantic,
                            questions=str(QUESTIONS))
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT)
    if out.returncode:
        raise RuntimeError(f"benchmark child failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.splitlines()[-1])


def run() -> dict:
    with tempfile.TemporaryDirectory() as data:
        semantic_cold = bot_process(True, data=Path(data))  # fills the cache dir (embeddings, engine snapshot)
        semantic_warm = bot_process(True, data=Path(data))
    return {"fuzzy": bot_process(False), "semantic (first start)": semantic_cold,
            "semantic (restart)": semantic_warm}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = run()
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print("scorer | semantic on | ready s | peak RSS MB | RSS after answering MB")
    for name, row in results.items():
        print(f"{name} | {row['semantic']} | {row['ready_s']:.2f} | {row['peak_rss_mb']:.0f} | {row['rss_mb']:.0f}")


if __name__ == "__main__":
    main()
