"""The storage benchmark's code runs on tiny sizes and its figures are complete (no timing assertions: the
figures live in benchmarks/README.md)."""

import math

import pytest

from benchmarks import storage
from bot.engine.knowledge import ParsedFile
from bot.storage.guild_file import parse_guild_text
from bot.storage.operations import cross_problems

TINY = storage.Sizes(servers=(3, 8), entries=2, adds=2, answer_servers=2, questions=2)


@pytest.fixture(scope="module")
def shipped_kb():
    return storage.load_knowledge(storage.KNOWLEDGE)


def test_generated_servers_are_valid_guild_files_that_clash_with_nothing_curated(shipped_kb):
    server = storage.EntryMaker().server(storage.ENTRIES_PER_SERVER)
    parsed = parse_guild_text(storage.guild_text(server), "generated.yaml")
    assert not parsed.problems
    assert parsed.content == server
    assert cross_problems(ParsedFile("generated.yaml", parsed.content, None, ()), shipped_kb) == []


def test_the_same_seed_gives_the_same_servers_and_a_smaller_set_is_a_prefix(tmp_path):
    first = storage.write_data_dir(tmp_path / "a", 4, 2)
    again = storage.write_data_dir(tmp_path / "b", 4, 2)
    assert first == again == storage.server_ids(6)[:4]
    for guild_id in first:
        name = f"{storage.GUILDS_DIR}/{guild_id}.yaml"
        assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text()


def assert_complete(row: dict, sizes: storage.Sizes) -> None:
    assert row["add_ms"] > 0 and row["answer_first_ms"] > 0 and row["answer_ms"] > 0
    for n in (0, *sizes.servers):
        load = row[f"load_{n}"]
        assert load["servers_held"] == n and load["problems"] == 0
        assert load["load_s"] > 0 and load["peak_rss_mb"] > 0


def test_the_file_backend_figures_are_complete():
    results = storage.run(TINY, postgres=False)
    assert_complete(results["file"], TINY)
    assert "postgres" not in results and set(results["ratios"]) == {"file_growth"}
    assert "postgres | skipped" in storage.report(results)


def test_postgresql_is_measured_against_the_files_on_a_durable_server(pg_server):
    results = storage.run(TINY, pg_server)
    assert_complete(results["file"], TINY)
    assert_complete(results["postgres"], TINY)
    versus = results["ratios"]["postgres_vs_file"]
    assert {"add_ms", "answer_ms", "load_s_3", "load_s_8", "servers_mb_8"} <= set(versus)
    assert all(value > 0 or math.isnan(value) for value in versus.values())
    assert storage.server_settings(pg_server, {}) == {}
    with storage.psycopg.connect(pg_server) as conn:  # the shared test server is put back as it was
        assert conn.execute("SHOW fsync").fetchone() == ("off",)
        leftovers = conn.execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'bench_%'").fetchone()
        assert leftovers == (0,)
