"""`mythbot db upgrade | import | export`: a populated data dir goes into PostgreSQL and back out with
every entry, version and record intact, and running either direction again changes nothing."""

import asyncio
import re
from pathlib import Path

import pytest

from bot.cli import main
from bot.engine.schema import ExerciseEntry
from bot.storage.guild_store import GuildStore
from bot.storage.operations import (
    add_entry_op,
    edit_entry_op,
    hide_entry,
    remove_entry,
    restore_entry,
    train,
)
from bot.storage.postgres.migrate import load_migrations
from bot.storage.postgres.store import open_postgres
from bot.storage.records import RECORDS_FILE, TABLES, Records
from tests.storage.conftest import ANA, BO, GUILD, OTHER_GUILD, creatine_entry

THIRD_GUILD = 333
LINE = re.compile(r"^(\w+): (\d+) added, (\d+) changed, (\d+) removed, (\d+) unchanged$")

PLANK = ExerciseEntry(id="side-plank", title="Side plank", questions=["how do i do a side plank"],
                      evidence="limited", summary="Hold your body straight on one forearm.", muscles=["obliques"],
                      steps=["Lie on your side.", "Lift your hips."], evidence_summary="EMG studies only.")


def populate(data_dir: Path, kb) -> None:
    """Three servers with every kind of content and history, and a row in every records table."""
    store = GuildStore(data_dir, kb)
    added = store.apply_now(GUILD, add_entry_op(creatine_entry(), ANA))
    timing = store.apply_now(GUILD, add_entry_op(creatine_entry(id="creatine-timing", title="When to take it?",
                                                                questions=["when should i take creatine"]), BO))
    edited = store.apply_now(GUILD, edit_entry_op(added.entry_id, creatine_entry(verdict="true"), BO, added.revision))
    store.apply_now(GUILD, remove_entry(timing.entry_id, ANA))
    store.apply_now(GUILD, edit_entry_op(added.entry_id, creatine_entry(answer="Mostly water, early on."), ANA,
                                         edited.revision))
    store.apply_now(GUILD, add_entry_op(PLANK, ANA))
    store.apply_now(GUILD, hide_entry("spot-reduction"))
    store.apply_now(GUILD, train("protein-intake", ["how much protein per day", "protein grams a day"], ANA))
    store.apply_now(GUILD, train(added.entry_id, ["is creatine water weight"], BO))
    other = store.apply_now(OTHER_GUILD, add_entry_op(creatine_entry(), BO))
    store.apply_now(OTHER_GUILD, remove_entry(other.entry_id, BO))
    store.apply_now(OTHER_GUILD, restore_entry(other.entry_id, ANA))
    store.apply_now(OTHER_GUILD, hide_entry("squats-hip-dips"))
    store.apply_now(THIRD_GUILD, train("spot-reduction", ["can i lose belly fat only"], ANA))

    records = Records(data_dir / RECORDS_FILE)
    records.record_unanswered(GUILD, 10, "is creatine safe", "protein-intake", 40.0)
    records.record_unanswered(None, None, "a question in a dm")
    records.record_feedback(GUILD, 100, 7, entry_id="spot-reduction", helpful=True, question="spot reduction?")
    records.record_feedback(OTHER_GUILD, 101, 8, entry_id=other.entry_id, helpful=False)
    records.audit(GUILD, 5, "Ana", "add", entry_id=added.entry_id, detail="first")
    records.audit(OTHER_GUILD, 6, "Bo", "hide", entry_id="squats-hip-dips")
    records.record_decision(GUILD, 10, "answer", "spot-reduction", 91.0)
    records.record_decision(None, None, "none", None, 10.0)
    records.record_decision(OTHER_GUILD, 11, "clarify", None, 60.0)
    first = records.record_suggestion(GUILD, "wtf is a hipdip", "squats-hip-dips", "pick", member_id=7)
    records.record_suggestion(GUILD, "belly fat crunches", "spot-reduction", "reask")
    records.resolve_suggestion(GUILD, first, "approved")
    records.close()


def db(capsys, *args: str) -> tuple[int, dict[str, tuple[int, ...]], str]:
    """Run `mythbot db ...`; the exit code, the counts it printed per table, and stderr."""
    code = main(["db", *args])
    out, err = capsys.readouterr()
    counts = {m[1]: tuple(map(int, m.groups()[1:])) for m in map(LINE.match, out.splitlines()) if m}
    return code, counts, err


def snapshot(data_dir: Path) -> dict[str, bytes]:
    """Every guild file and history file (not backups; the SQLite file is compared by its rows)."""
    return {p.name: p.read_bytes() for p in sorted((data_dir / "guilds").iterdir())
            if p.name.endswith((".yaml", ".history.jsonl"))}


def content(data_dir: Path, kb) -> dict:
    store = GuildStore(data_dir, kb)
    assert store.load_all() == []
    guilds = {guild: store.state(guild).content for guild in (GUILD, OTHER_GUILD, THIRD_GUILD)}
    history = {(guild, entry.id): [r.entry for r in store.history(guild, entry.id, limit=100)]
               for guild, file in guilds.items() for entry in file.entries}
    records = Records(data_dir / RECORDS_FILE)
    rows = {table: records.rows(table) for table in TABLES}
    records.close()
    return {"guilds": guilds, "history": history, "records": rows}


def test_a_data_dir_goes_into_postgresql_and_back_out_unchanged(tmp_path, pg_database, fixture_kb, capsys):
    source, target = tmp_path / "source", tmp_path / "target"
    populate(source, fixture_kb)
    url = ("--database-url", pg_database)

    code, imported, err = db(capsys, "import", "--from", str(source), *url)
    assert (code, err) == (0, "")
    assert imported == {
        "guild_entries": (4, 0, 0, 0), "entry_history": (9, 0, 0, 0), "guild_hidden": (2, 0, 0, 0),
        "guild_trained": (4, 0, 0, 0), "audit": (2, 0, 0, 0), "unanswered": (2, 0, 0, 0),
        "feedback": (2, 0, 0, 0), "suggestions": (2, 0, 0, 0), "decisions": (3, 0, 0, 0)}

    code, again, _ = db(capsys, "import", "--from", str(source), *url)
    assert code == 0 and again == {table: (0, 0, 0, counts[0]) for table, counts in imported.items()
                                   if table != "entry_history"} | {"entry_history": (0, 0, 0, 0)}

    code, exported, err = db(capsys, "export", "--to", str(target), *url)
    assert (code, err) == (0, "")
    assert exported == imported
    assert content(target, fixture_kb) == content(source, fixture_kb)
    assert snapshot(target) == snapshot(source)  # the same files, byte for byte, history order included

    files = snapshot(target)
    code, again, _ = db(capsys, "export", "--to", str(target), *url)
    assert code == 0 and all(added == changed == removed == 0 for added, changed, removed, _ in again.values())
    assert snapshot(target) == files

    before = snapshot(source)
    assert db(capsys, "export", "--to", str(source), *url)[0] == 0  # back where it came from: nothing to do
    assert snapshot(source) == before


def test_the_database_keeps_serving_what_was_imported(tmp_path, pg_database, fixture_kb, capsys):
    populate(tmp_path, fixture_kb)
    assert db(capsys, "import", "--from", str(tmp_path), "--database-url", pg_database)[0] == 0
    files = GuildStore(tmp_path, fixture_kb)
    files.load_all()

    async def check() -> None:
        faq, records = await open_postgres(pg_database, lambda: fixture_kb)
        try:
            assert await faq.load_all() == []
            for guild in (GUILD, OTHER_GUILD, THIRD_GUILD):
                assert faq.state(guild).content == files.state(guild).content
            change = await faq.apply(GUILD, add_entry_op(creatine_entry(id="creatine-dose", title="Dose?",
                                                                        questions=["how much creatine"]), ANA))
            assert change.entry_id == "creatine-dose"
            assert await records.record_suggestion(GUILD, "new", "spot-reduction", "pick") == 3  # ids moved past
        finally:
            await faq.close()
            await records.close()

    asyncio.run(check())


def test_upgrade_applies_the_migrations_once(pg_database, capsys, monkeypatch):
    monkeypatch.setenv("MYTHBOT_DATABASE_URL", pg_database)
    assert main(["db", "upgrade"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[1] for line in out.splitlines() if line.startswith("applied")] == [
        m.name for m in load_migrations()]
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out == f"schema version {len(load_migrations())} (already current)\n"


@pytest.mark.parametrize(("args", "message"), [
    (("upgrade",), "no database: pass --database-url or set MYTHBOT_DATABASE_URL"),
    (("upgrade", "--database-url", "mysql://x/y"), "must start with postgresql://"),
    (("import", "--from", "/no/such/dir", "--database-url", "postgresql://x/y"), "no such data directory"),
])
def test_db_commands_say_what_is_wrong(args, message, capsys, monkeypatch):
    monkeypatch.delenv("MYTHBOT_DATABASE_URL", raising=False)
    assert main(["db", *args]) == 1
    assert message in capsys.readouterr().err
