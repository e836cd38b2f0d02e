"""What only the file backend has: the guild file's `trained` key, the history file beside it, SQLite
tables added in place, and a busy database that fails fast instead of stalling."""

import sqlite3

import pytest

from bot.storage.base import RecordFailed
from bot.storage.file_backend import FileRecordStore
from bot.storage.guild_store import GuildStore
from bot.storage.operations import add_entry_op, train
from bot.storage.records import Records
from tests.storage.conftest import ANA, BO, GUILD, creatine_entry

LOVE_HANDLES = "can i melt my love handles with side bends"


async def test_taught_phrasings_live_in_the_guild_file_under_trained(store, tmp_path, fixture_kb):
    await store.apply(GUILD, train("spot-reduction", [LOVE_HANDLES], ANA))
    text = store.path(GUILD).read_text()
    assert f"trained:\n  spot-reduction:\n    - {LOVE_HANDLES}\n" in text

    store.path(GUILD).write_text(text.replace(LOVE_HANDLES, "Why Do My Hips Dip"))  # a hand edit
    reopened = GuildStore(tmp_path / "data", fixture_kb)
    assert reopened.load_all() == []
    assert reopened.state(GUILD).trained == {"spot-reduction": ("Why Do My Hips Dip",)}


async def test_history_survives_a_torn_line_and_data_from_before_history(store, caplog):
    added = await store.apply(GUILD, add_entry_op(creatine_entry(), ANA))
    edited = await store.edit(GUILD, added.entry_id, creatine_entry(verdict="true", evidence="moderate"), BO)
    path = store.history_path(GUILD)
    assert len(path.read_text().splitlines()) == 2
    with path.open("a") as history:
        history.write('{"id": "does-creatine-make-you-bloa')  # the process died mid-write
    assert [r.revision for r in store.history(GUILD, added.entry_id)] == [edited.revision, added.revision]
    assert "skipping a history line" in caplog.text

    path.unlink()  # a data dir from before history was kept: the current version still shows
    [only] = store.history(GUILD, added.entry_id)
    assert only.entry == edited.entry and only.saved_by == "Bo (6)"



def test_an_existing_records_file_gains_the_new_tables_in_place(tmp_path):
    path = tmp_path / "mythbot.sqlite3"
    old = sqlite3.connect(path)
    old.executescript("CREATE TABLE audit (id INTEGER PRIMARY KEY, guild_id INTEGER NOT NULL, actor_id INTEGER "
                      "NOT NULL, actor_name TEXT NOT NULL, action TEXT NOT NULL, entry_id TEXT, detail TEXT, "
                      "created_at REAL NOT NULL);"
                      "INSERT INTO audit VALUES (1, 5, 5, 'Ana', 'add', 'x', NULL, 1.0);")
    old.commit()
    old.close()
    records = Records(path)
    records.record_decision(5, 1, "answer", "x", 90.0)
    assert [r.action for r in records.audit_log(5)] == ["add"]
    assert [d.entry_id for d in records.decisions(5, 0.0)] == ["x"]


async def test_a_database_held_by_another_writer_fails_fast_with_a_storage_error(tmp_path):
    path = tmp_path / "mythbot.sqlite3"
    records = await FileRecordStore.open(path, busy_timeout=0.05)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(RecordFailed, match="database is locked"):
            await records.audit(GUILD, 5, "Ana", "add")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    await records.audit(GUILD, 5, "Ana", "add")
    assert len(await records.audit_log(GUILD)) == 1
    await records.close()
