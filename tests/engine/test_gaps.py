import random
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.engine import gaps
from bot.engine.gaps import group_gaps, word_similarity


@dataclass(frozen=True)
class Asked:
    question: str
    best_entry: str | None = None
    created_at: float = 0.0


def asked(*questions, best=None):
    return [Asked(q, best, float(i)) for i, q in enumerate(questions)]


def test_similar_questions_are_grouped_with_counts_most_asked_first():
    gaps = group_gaps(asked(
        "is creatine safe?", "Is creatine safe for women", "creatine safe??", "is creatine safe?",
        "does creatine make you bloated", "creatine bloating", "does creatine cause bloating",
        "best shoes for squats", "what shoes for squatting",
        "is creatine bad for you",
    ))
    summary = [(g.count, g.example) for g in gaps]
    assert summary == [(4, "is creatine safe?"), (3, "does creatine cause bloating"), (2, "what shoes for squatting"),
                       (1, "is creatine bad for you")]
    assert gaps[0].wordings == ("Is creatine safe for women",)  # "creatine safe??" reads the same as the example
    assert set(gaps[1].wordings) == {"creatine bloating", "does creatine make you bloated"}  # ties: newest leads


def test_the_most_common_wording_leads_and_the_closest_entry_is_kept():
    items = [Asked("how much protein", "protein-intake", 1), Asked("How much protein?", "protein-intake", 2),
             Asked("how much protein powder", None, 3)]
    [gap] = group_gaps(items)
    assert gap.count == 3 and gap.example == "how much protein"
    assert gap.closest_entry == "protein-intake" and gap.last_asked == 3


def test_ties_go_to_the_most_recent_and_limit_cuts_the_list():
    gaps = group_gaps(asked("alpha beta gamma", "delta epsilon zeta"), limit=1)
    assert [g.example for g in gaps] == ["delta epsilon zeta"]


def test_questions_that_normalise_to_nothing_are_skipped():
    assert group_gaps(asked("???", "   ", "😀")) == []


def test_word_similarity_counts_words_not_letters():
    assert word_similarity(("creatine", "bad"), ("creatine", "bloat")) == 0.5
    assert word_similarity(("creatine", "bloat"), ("creatine", "make", "bloated")) == 0.8
    assert word_similarity((), ("a",)) == 0.0


@given(st.lists(st.text(max_size=60), max_size=40))
def test_every_question_lands_in_exactly_one_group(questions):
    gaps = group_gaps(asked(*questions))
    kept = [q for q in questions if group_gaps(asked(q))]
    assert sum(g.count for g in gaps) == len(kept)


def nonsense_question(rng: random.Random, chars: int = 500) -> str:
    """A mention full of made-up words, as the attack seeded (recorded questions are cut at 500)."""
    words: list[str] = []
    length = 0
    while length < chars:
        words.append("".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(rng.randint(2, 4))))
        length += len(words[-1]) + 1
    return " ".join(words)[:chars]


def overlapping_question(rng: random.Random, shared: list[str]) -> str:
    """Half the words shared by every question, half its own: never similar enough to join, yet
    each one shares words with every group so far."""
    own = ["".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(4)) for _ in range(10)]
    return " ".join(shared + own)


def seeded(kind: str, n: int) -> list[Asked]:
    rng = random.Random(12)
    shared = ["".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(4)) for _ in range(10)]
    make = nonsense_question if kind == "nonsense" else (lambda r: overlapping_question(r, shared))
    return [Asked(make(rng), None, float(i)) for i in range(n)]


COMPARISONS_PER_QUESTION = 30
WORD_PAIRS_PER_COMPARISON = 20 * 20


@pytest.mark.parametrize("kind", ["nonsense", "overlapping"])
def test_seeded_long_questions_are_grouped_with_bounded_work(monkeypatch, kind):
    questions = seeded(kind, 1000)
    budget = {"comparisons": COMPARISONS_PER_QUESTION * len(questions)}
    budget["word pairs"] = WORD_PAIRS_PER_COMPARISON * budget["comparisons"]
    spent = {"comparisons": 0, "word pairs": 0}
    measured = gaps.word_similarity

    def counted(a, b):
        spent["comparisons"] += 1
        spent["word pairs"] += len(a) * len(b)
        assert spent["comparisons"] <= budget["comparisons"] and spent["word pairs"] <= budget["word pairs"], \
            f"grouping {len(questions)} questions spent over {spent} (budget {budget})"
        return measured(a, b)

    monkeypatch.setattr(gaps, "word_similarity", counted)
    grouped = group_gaps(questions)
    assert sum(g.count for g in grouped) == len(questions)


def test_a_thousand_long_questions_finish_with_bounded_index_work():
    work = gaps.GroupingWork()
    grouped = group_gaps(seeded("overlapping", 1000) + seeded("nonsense", 1000), work=work)
    assert sum(g.count for g in grouped) == 2000
    assert work.postings <= gaps.MAX_POSTINGS_PER_QUESTION * 2000
    assert work.comparisons <= gaps.MAX_CANDIDATES * 2000


def test_long_questions_still_group_with_their_rewordings():
    rng = random.Random(3)
    base = nonsense_question(rng, 200)
    reworded = base.rsplit(" ", 2)[0] + " whatever"
    grouped = group_gaps(asked(base, reworded, nonsense_question(rng, 200)))
    assert sorted(g.count for g in grouped) == [1, 2]
