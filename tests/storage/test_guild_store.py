import logging

import pytest

from bot.engine.knowledge import KnowledgeBase, assemble, parse_text
from bot.engine.normalize import normalize
from bot.storage.atomic import backup_paths
from bot.storage.guild_file import parse_guild_text
from bot.storage.guild_store import ChangeRefused, GuildStore, SaveFailed, unique_id
from tests.storage.conftest import ANA, BO, GUILD, OTHER_GUILD, creatine_entry, fail_directory_fsync, myth

CREATINE = "does creatine make you bloated"


def answered(engine, store, guild, question):
    result = engine.ask(question, scope=store.scope_for(guild)).result
    return result.entry if result.status == "answer" else None


async def test_an_added_entry_is_answered_in_its_guild_only(store, fixture_engine):
    assert answered(fixture_engine, store, GUILD, CREATINE) is None
    change = await store.add(GUILD, creatine_entry(), ANA)
    assert change.action == "add" and change.entry_id == "does-creatine-make-you-bloated"
    assert answered(fixture_engine, store, GUILD, "does creatine make you bloated?") == change.entry_id
    assert answered(fixture_engine, store, OTHER_GUILD, "does creatine make you bloated?") is None
    assert answered(fixture_engine, store, None, "does creatine make you bloated?") is None
    assert store.scope_for(None) is None
    view = fixture_engine.view(change.entry_id, store.scope_for(GUILD))
    assert view.sources[0].link == "https://doi.org/10.1186/s12970-021-00412-w"
    assert fixture_engine.view(change.entry_id, store.scope_for(OTHER_GUILD)) is None


async def test_entries_persist_with_who_and_when(store, tmp_path, fixture_kb):
    await store.add(GUILD, creatine_entry(), ANA)
    reopened = GuildStore(tmp_path / "data", fixture_kb)
    assert reopened.load_all() == []
    entry = reopened.entry(GUILD, "does-creatine-make-you-bloated")
    assert entry.stewardship.created_by == "Ana (5)" and entry.stewardship.created_at is not None
    assert reopened.path(GUILD) == tmp_path / "data" / "guilds" / f"{GUILD}.yaml"


async def test_edit_changes_the_entry_and_records_the_editor(store, fixture_engine):
    added = await store.add(GUILD, creatine_entry(), ANA)
    edited = await store.edit(GUILD, added.entry_id, creatine_entry(questions=["is creatine water weight"],
                                                                    verdict="true", evidence="strong"), BO)
    assert edited.entry.verdict == "true" and edited.entry.questions == ["is creatine water weight"]
    assert edited.entry.stewardship.created_by == "Ana (5)" and edited.entry.stewardship.updated_by == "Bo (6)"
    assert answered(fixture_engine, store, GUILD, "is creatine just water weight") == added.entry_id
    index = store.scope_for(GUILD).index_for(fixture_engine.matcher, fixture_engine.kb.entries)
    assert normalize("creatine water retention") not in index.texts


async def test_remove_retires_and_restore_brings_back(store, fixture_engine):
    added = await store.add(GUILD, creatine_entry(), ANA)
    removed = await store.remove(GUILD, added.entry_id, BO)
    assert removed.action == "retire" and removed.entry.retired
    assert answered(fixture_engine, store, GUILD, CREATINE) is None
    assert "retired: true" in store.path(GUILD).read_text()  # kept, never deleted
    with pytest.raises(ChangeRefused, match="already retired"):
        await store.remove(GUILD, added.entry_id, BO)
    restored = await store.restore(GUILD, added.entry_id, ANA)
    assert restored.action == "restore" and not restored.entry.retired
    assert restored.entry.stewardship.updated_by == "Ana (5)"
    assert answered(fixture_engine, store, GUILD, CREATINE) == added.entry_id
    with pytest.raises(ChangeRefused, match="is not retired"):
        await store.restore(GUILD, added.entry_id, ANA)


async def test_a_curated_entry_can_be_hidden_in_one_guild(store, fixture_engine):
    question = "does spot reduction work"
    assert answered(fixture_engine, store, GUILD, question) == "spot-reduction"
    assert (await store.remove(GUILD, "spot-reduction", ANA)).action == "hide"
    assert answered(fixture_engine, store, GUILD, question) is None
    assert fixture_engine.view("spot-reduction", store.scope_for(GUILD)) is None
    assert answered(fixture_engine, store, OTHER_GUILD, question) == "spot-reduction"
    with pytest.raises(ChangeRefused, match="already hidden"):
        await store.hide(GUILD, "spot-reduction")
    assert (await store.restore(GUILD, "spot-reduction", ANA)).action == "unhide"
    assert answered(fixture_engine, store, GUILD, question) == "spot-reduction"
    await store.hide(GUILD, "spot-reduction")
    await store.unhide(GUILD, "spot-reduction")
    assert store.state(GUILD).hidden == frozenset()


async def test_a_hidden_curated_entry_can_be_replaced_by_the_guilds_own(store, fixture_engine):
    draft = myth("Spot reduction, our take", "does spot reduction work")
    with pytest.raises(ChangeRefused, match="reads the same as one of 'spot-reduction'"):
        await store.add(GUILD, draft, ANA)
    await store.hide(GUILD, "spot-reduction")
    added = await store.add(GUILD, draft, ANA)
    assert answered(fixture_engine, store, GUILD, "does spot reduction work") == added.entry_id
    with pytest.raises(ChangeRefused, match="reads the same"):
        await store.unhide(GUILD, "spot-reduction")  # both would own the phrasing


async def test_curated_entries_are_read_only(store):
    with pytest.raises(ChangeRefused, match="curated entry: it is read-only"):
        await store.edit(GUILD, "spot-reduction", creatine_entry(), ANA)
    with pytest.raises(ChangeRefused, match="no entry with id 'nope'"):
        await store.edit(GUILD, "nope", creatine_entry(), ANA)
    with pytest.raises(ChangeRefused, match="no entry with id 'nope'"):
        await store.remove(GUILD, "nope", ANA)
    with pytest.raises(ChangeRefused, match="no entry with id 'nope'"):
        await store.restore(GUILD, "nope", ANA)
    with pytest.raises(ChangeRefused, match="'protein-intake' is not hidden"):
        await store.restore(GUILD, "protein-intake", ANA)
    assert not store.path(GUILD).exists()


def test_new_ids_are_slugs_with_a_numeric_suffix_on_collision():
    assert unique_id("Spot reduction!", set()) == "spot-reduction"
    assert unique_id("Spot reduction!", {"spot-reduction"}) == "spot-reduction-2"
    assert unique_id("Spot reduction!", {"spot-reduction", "spot-reduction-2"}) == "spot-reduction-3"
    long_id = unique_id("x" * 80, {"x" * 64})
    assert long_id == "x" * 62 + "-2" and len(long_id) == 64


async def test_ids_never_collide_with_curated_or_earlier_entries(store):
    first = await store.add(GUILD, myth("Spot reduction", "q one"), ANA)
    second = await store.add(GUILD, myth("Spot reduction", "q two"), ANA)
    assert (first.entry_id, second.entry_id) == ("spot-reduction-2", "spot-reduction-3")


async def test_an_invalid_change_says_why_and_writes_nothing(store, fixture_engine):
    await store.add(GUILD, creatine_entry(), ANA)
    before = store.path(GUILD).read_bytes()
    scope = store.scope_for(GUILD)
    with pytest.raises(ChangeRefused, match="question 'how much protein should i eat' reads the same as one of "
                                            "'protein-intake'"):
        await store.add(GUILD, myth("Protein", "how much protein should i eat"), ANA)
    with pytest.raises(ChangeRefused, match="question 'creatine water retention' reads the same"):
        await store.add(GUILD, creatine_entry(id="again", title="Again"), ANA)
    assert store.path(GUILD).read_bytes() == before
    assert store.scope_for(GUILD) is scope
    assert not backup_paths(store.path(GUILD), 1)[0].exists()


async def test_problems_that_were_already_there_do_not_block_other_changes(tmp_path, fixture_kb):
    current = {"kb": KnowledgeBase(entries={}, sources=fixture_kb.sources)}
    store = GuildStore(tmp_path, lambda: current["kb"])
    added = await store.add(GUILD, creatine_entry(questions=["how much protein should i eat"]), ANA)
    current["kb"] = fixture_kb  # a curated reload now owns that phrasing too
    await store.add(GUILD, myth("Other", "something else entirely"), ANA)
    await store.remove(GUILD, added.entry_id, ANA)
    with pytest.raises(ChangeRefused, match="reads the same"):
        third = myth("Third", "how many grams of protein a day to grow glutes")
        await store.add(GUILD, third, ANA)


async def test_export_is_a_valid_curated_file_of_live_entries(store, fixture_kb):
    kept = await store.add(GUILD, creatine_entry(answer="Line one.\nLine two: see https://example.org."), ANA)
    gone = await store.add(GUILD, myth("Gone", "gone q"), ANA)
    await store.remove(GUILD, gone.entry_id, ANA)
    await store.hide(GUILD, "spot-reduction")
    text, count = store.export_yaml(GUILD)
    assert count == 1 and text.startswith("# yaml-language-server: $schema=")
    parsed = parse_text(text, "export.yaml")
    assert parsed.problems == ()
    _, problems = assemble([parsed], base=fixture_kb)
    assert problems == []
    assert [e.id for e in parsed.content.myths] == [kept.entry_id]
    assert parsed.content.myths[0].answer == "Line one.\nLine two: see https://example.org."
    assert "hidden" not in text and "Gone" not in text


async def test_a_corrupt_file_falls_back_to_the_newest_valid_backup(store, tmp_path, fixture_kb, caplog):
    first = await store.add(GUILD, creatine_entry(), ANA)
    await store.add(GUILD, myth("Second", "second q"), ANA)
    path = store.path(GUILD)
    path.write_text("myths:\n  - id: broken\n    title: [unclosed\n")
    reopened = GuildStore(tmp_path / "data", fixture_kb)
    with caplog.at_level(logging.WARNING, logger="bot.storage.guild_store"):
        problems = reopened.load_all()
    assert problems and problems[0].file == str(path) and problems[0].line == 4
    assert f"{path}:4: YAML syntax error" in caplog.text
    assert "answering from the backup" in caplog.text
    assert list(reopened.state(GUILD).entries) == [first.entry_id]  # .1 held the file before the second add
    await reopened.add(GUILD, myth("Third", "third q"), BO)
    broken_copies = list(path.parent.glob(f"{path.name}.broken-*"))
    assert len(broken_copies) == 1 and "unclosed" in broken_copies[0].read_text()
    assert parse_guild_text(path.read_bytes(), "x").problems == ()


async def test_an_impossible_date_falls_back_to_the_newest_valid_backup_after_a_restart(store, tmp_path, fixture_kb):
    first = await store.add(GUILD, creatine_entry(), ANA)
    await store.add(GUILD, myth("Second", "second q"), ANA)
    path = store.path(GUILD)
    text = path.read_text()
    assert text.count("created_at: '") == 2
    path.write_text(text.replace("created_at: '", "created_at: 2025-02-30T10:00:00Z #", 1))
    reopened = GuildStore(tmp_path / "data", fixture_kb)
    problems = reopened.load_all()
    assert [(p.file, p.message.split(" (")[0]) for p in problems] == [
        (str(path), "invalid date '2025-02-30T10:00:00Z'")]
    assert list(reopened.state(GUILD).entries) == [first.entry_id]  # .1 held the file before the second add


async def test_a_guild_with_no_valid_file_has_no_entries_and_nothing_crashes(tmp_path, fixture_kb, caplog):
    guilds = tmp_path / "guilds"
    guilds.mkdir()
    (guilds / f"{GUILD}.yaml").write_text("myths:\n  - id: x\n    title: X\n")
    (guilds / f"{GUILD}.yaml.1").write_bytes(b"\xff\xfe not text")
    (guilds / "notes.yaml").write_text("hello")
    store = GuildStore(tmp_path, fixture_kb)
    with caplog.at_level(logging.WARNING):
        problems = store.load_all()
    assert {p.file for p in problems} == {str(guilds / f"{GUILD}.yaml"), str(guilds / f"{GUILD}.yaml.1")}
    assert "missing required field" in caplog.text and "no valid file or backup" in caplog.text
    assert "ignoring" in caplog.text
    assert store.scope_for(GUILD) is None


async def test_hand_edits_that_clash_with_curated_knowledge_are_logged_and_still_served(tmp_path, fixture_kb, caplog):
    guilds = tmp_path / "guilds"
    guilds.mkdir()
    (guilds / f"{GUILD}.yaml").write_text(
        "myths:\n  - id: mine\n    title: Mine\n    verdict: myth\n    evidence: limited\n    answer: A.\n"
        "    questions: [does spot reduction work]\n    related: [nowhere]\n")
    store = GuildStore(tmp_path, fixture_kb)
    with caplog.at_level(logging.WARNING):
        assert store.load_all() == []
    assert "unknown related id 'nowhere'" in caplog.text and "reads the same" in caplog.text
    assert "mine" in store.state(GUILD).entries


async def test_a_failing_write_keeps_the_old_file_and_scope(store, monkeypatch):
    await store.add(GUILD, creatine_entry(), ANA)
    before, scope = store.path(GUILD).read_bytes(), store.scope_for(GUILD)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("bot.storage.atomic.os.fsync", disk_full)
    with pytest.raises(SaveFailed, match=r"no space left on the device\. Nothing was changed"):
        await store.add(GUILD, myth("Second", "second q"), ANA)
    assert store.path(GUILD).read_bytes() == before
    assert store.scope_for(GUILD) is scope


async def test_a_directory_fsync_failure_after_the_rename_reports_the_change_as_made(store, monkeypatch,
                                                                                      fixture_engine):
    fail_directory_fsync(monkeypatch)
    change = await store.add(GUILD, creatine_entry(), ANA)
    assert answered(fixture_engine, store, GUILD, CREATINE) == change.entry_id  # served at once
    assert [e.id for e in parse_guild_text(store.path(GUILD).read_bytes(), "x").content.entries] == [change.entry_id]
    with pytest.raises(ChangeRefused):  # a retry is a duplicate, as it should be: the first one happened
        await store.add(GUILD, creatine_entry(), ANA)


async def test_an_unexpected_failure_loading_one_guild_does_not_stop_the_others(tmp_path, fixture_kb, monkeypatch,
                                                                                caplog):
    store = GuildStore(tmp_path, fixture_kb)
    await store.add(GUILD, creatine_entry(), ANA)
    await store.add(OTHER_GUILD, creatine_entry(), ANA)
    real_load = GuildStore.load

    def flaky(self, guild_id):
        if guild_id == GUILD:
            raise RuntimeError("bug")
        return real_load(self, guild_id)

    monkeypatch.setattr(GuildStore, "load", flaky)
    fresh = GuildStore(tmp_path, fixture_kb)
    with caplog.at_level(logging.ERROR):
        fresh.load_all()
    assert "could not load" in caplog.text
    assert fresh.scope_for(GUILD) is None and fresh.scope_for(OTHER_GUILD) is not None
