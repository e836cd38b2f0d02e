from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

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
