"""Any text a member can type gets a sane, bounded decision, never an exception."""

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

HOSTILE = [
    "",
    "\x00\x01\x02\x1b[31mred\x1b[0m",
    "\u200b\u200c\u200d\ufeff",  # zero-width characters only
    "do squats fix\u200b hip\u200d dips",
    "\u202ehip dips\u202c \u2067squats\u2069",  # right-to-left overrides and isolates
    "```python\nimport os\nos.system('rm -rf /')\n```",
    "@everyone @here <@&123> <@!456> will squats fix my hip dips",
    "🍑" * 5000,
    "Ｗｉｌｌ ｓｑｕａｔｓ ｆｉｘ ｍｙ ｈｉｐ ｄｉｐｓ",  # full-width letters
    "a" * 1_000_000,
    ("hip dips " * 200_000),
    "\n" * 10_000,
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_gets_a_bounded_sane_decision(fixture_engine, text):
    start = time.perf_counter()
    result = fixture_engine.ask(text).result
    assert time.perf_counter() - start < 1.0  # a generous sanity bound; real figures live in benchmarks/
    assert result.status in {"answer", "clarify", "none"}
    assert result.question == text


def test_hidden_characters_do_not_change_the_answer(fixture_engine):
    plain = fixture_engine.ask("will squats fix my hip dips").result
    for variant in ("do squats fix\u200b hip\u200d dips", "Ｗｉｌｌ ｓｑｕａｔｓ ｆｉｘ ｍｙ ｈｉｐ ｄｉｐｓ",
                    "@everyone will squats fix my hip dips"):
        assert fixture_engine.ask(variant).result.entry == plain.entry


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), min_size=0, max_size=5000))
def test_any_unicode_text_is_handled(fixture_engine, text):
    result = fixture_engine.ask(text).result
    assert result.status in {"answer", "clarify", "none"} and 0 <= result.score <= 100
