"""Generate a large, valid knowledge base for benchmarks: varied phrasings from the shipped vocabulary.

    python -m benchmarks.generate OUT_DIR --phrasings 100000
"""

import argparse
import random
from pathlib import Path

import yaml

from bot.engine.knowledge import load_knowledge
from bot.engine.normalize import normalize

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PHRASINGS_PER_ENTRY = 10
ENTRIES_PER_FILE = 1000


def vocabulary(knowledge_dir: Path) -> list[str]:
    kb = load_knowledge(knowledge_dir)
    words = {w.strip("?!.,").lower() for e in kb.entries.values() for q in e.questions for w in q.split()}
    return sorted(w for w in words if w.isalpha())


def synthetic_word(rng: random.Random) -> str:
    return "".join(rng.choice("bcdfghjklmnprstvwz") + rng.choice("aeiou") for _ in range(rng.randint(2, 4)))


def generate(out: Path, phrasings: int, seed: int = 7, knowledge_dir: Path = PROJECT_ROOT / "knowledge") -> Path:
    """Write `out/sources.yaml` and `out/generated-*.yaml` with about `phrasings` phrasings."""
    rng = random.Random(seed)
    common = vocabulary(knowledge_dir)
    rare = [synthetic_word(rng) for _ in range(max(phrasings // 4, 50))]  # topic words, as real bases have
    entries, seen = [], set()
    for n in range(max(phrasings // PHRASINGS_PER_ENTRY, 1)):
        topic = rng.sample(rare, 2)
        questions = []
        while len(questions) < PHRASINGS_PER_ENTRY:
            words = [*topic[: rng.randint(1, 2)], *rng.sample(common, rng.randint(2, 6))]
            rng.shuffle(words)
            text = " ".join(words)
            if normalize(text) not in seen:  # the validator refuses phrasings two entries share
                seen.add(normalize(text))
                questions.append(text)
        entries.append({"id": f"gen-{n}", "title": f"Generated {' '.join(topic)} {n}", "verdict": "myth",
                        "evidence": "limited", "answer": "Generated for benchmarks.", "questions": questions,
                        "sources": ["vispute2011"]})
    out.mkdir(parents=True, exist_ok=True)
    (out / "sources.yaml").write_text((knowledge_dir / "sources.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    for start in range(0, len(entries), ENTRIES_PER_FILE):  # knowledge files are capped at 1 MB each
        chunk = entries[start : start + ENTRIES_PER_FILE]
        path = out / f"generated-{start // ENTRIES_PER_FILE:04d}.yaml"
        path.write_text(yaml.safe_dump({"myths": chunk}, sort_keys=False), encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--phrasings", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    generate(args.out, args.phrasings, args.seed)


if __name__ == "__main__":
    main()
