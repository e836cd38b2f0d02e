"""Generate a large, valid knowledge base for benchmarks: varied phrasings from the shipped vocabulary.

    python -m benchmarks.generate OUT_DIR --phrasings 100000
"""

import argparse
import itertools
import random
from collections import Counter
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


def word_counts(knowledge_dir: Path) -> Counter[str]:
    """How often each word occurs in the shipped phrasings (for a realistic, Zipf-like vocabulary)."""
    kb = load_knowledge(knowledge_dir)
    words = (w.strip("?!.,").lower() for e in kb.entries.values() for q in e.questions for w in q.split())
    return Counter(w for w in words if w.isalpha())


class ZipfWords:
    """Words drawn with Zipf-like frequencies: the shipped phrasings' own words by rank, then a long tail
    of rarer made-up ones, so common words ("hip", "fat", "squat") stand in thousands of phrasings."""

    def __init__(self, rng: random.Random, knowledge_dir: Path, tail: int, exponent: float = 1.0) -> None:
        ranked = [word for word, _ in word_counts(knowledge_dir).most_common()]
        self.words = ranked + [synthetic_word(rng) for _ in range(tail)]
        self.weights = list(itertools.accumulate(1.0 / (rank + 1) ** exponent for rank in range(len(self.words))))
        self.rng = rng

    def sample(self, count: int) -> list[str]:
        return self.rng.choices(self.words, cum_weights=self.weights, k=count)


def _phrasings_of(rng: random.Random, topic: list[str], draw, seen: set[str]) -> list[str]:
    questions: list[str] = []
    while len(questions) < PHRASINGS_PER_ENTRY:
        words = [*topic[: rng.randint(1, len(topic))], *draw(rng.randint(2, 6))]
        rng.shuffle(words)
        text = " ".join(words)
        if normalize(text) and normalize(text) not in seen:  # the validator refuses phrasings two entries share
            seen.add(normalize(text))
            questions.append(text)
    return questions


def generate(out: Path, phrasings: int, seed: int = 7, knowledge_dir: Path = PROJECT_ROOT / "knowledge",
             zipf: bool = False) -> Path:
    """Write `out/sources.yaml` and `out/generated-*.yaml` with about `phrasings` phrasings.

    The default base gives each entry two rare topic words, so few entries share a question's words;
    `zipf=True` draws every word, topic words included, from a Zipf-like distribution instead."""
    rng = random.Random(seed)
    if zipf:
        zipf_words = ZipfWords(rng, knowledge_dir, tail=max(phrasings // 4, 50))

        def draw(count: int) -> list[str]:
            return zipf_words.sample(count)

        def topic_of() -> list[str]:
            return zipf_words.sample(2)
    else:
        common = vocabulary(knowledge_dir)
        rare = [synthetic_word(rng) for _ in range(max(phrasings // 4, 50))]  # topic words, as real bases have

        def draw(count: int) -> list[str]:
            return rng.sample(common, count)

        def topic_of() -> list[str]:
            return rng.sample(rare, 2)
    entries, seen = [], set()
    for n in range(max(phrasings // PHRASINGS_PER_ENTRY, 1)):
        topic = topic_of()
        entries.append({"id": f"gen-{n}", "title": f"Generated {' '.join(topic)} {n}", "verdict": "myth",
                        "evidence": "limited", "answer": "Generated for benchmarks.",
                        "questions": _phrasings_of(rng, topic, draw, seen), "sources": ["vispute2011"]})
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
    parser.add_argument("--zipf", action="store_true", help="Zipf-like vocabulary: common words shared widely")
    args = parser.parse_args()
    generate(args.out, args.phrasings, args.seed, zipf=args.zipf)


if __name__ == "__main__":
    main()
