"""The benchmark code runs and its figures are well-formed (no timing assertions: figures live in benchmarks/)."""

from benchmarks.generate import generate
from benchmarks.run import matching_row
from bot.engine.knowledge import load_knowledge


def test_generated_bases_are_valid_and_the_matching_row_is_complete(tmp_path):
    base = generate(tmp_path / "kb", phrasings=500)
    assert len(load_knowledge(base).entries) == 50
    row = matching_row("generated 500", base, repeats=1)
    assert row["phrasings"] >= 500 and row["added_answerable"] is True
    assert row["bare_ms"] > 0 and row["ours_ms"] > 0 and row["ratio"] > 0
