"""What every storage backend promises, run against each one: files + SQLite, and PostgreSQL.

Two store objects on one backend stand for two processes (two bots on one data dir or one database).
"""

import time

import pytest
import yaml

from bot.stats import Decision, Vote
from bot.storage.base import ChangeRefused, Conflict, FaqStore, RecordStore, StorageError, revision_of
from bot.storage.factory import open_storage
from bot.storage.operations import (
    add_entry_op,
    edit_entry_op,
    hide_entry,
    remove_entry,
    restore_entry,
    train,
    unhide_entry,
    untrain,
)
from tests.storage.conftest import ANA, BO, GUILD, OTHER_GUILD, creatine_entry

CREATINE_ID = "does-creatine-make-you-bloated"
LOVE_HANDLES = "can i melt my love handles with side bends"


class Backend:
    """Opens stores on one backend; every store it opened is closed after the test."""

    def __init__(self, data_dir, database_url, base) -> None:
        self.data_dir, self.database_url, self.base = data_dir, database_url, base
        self.opened: list = []

    async def open(self) -> tuple[FaqStore, RecordStore]:
        faq, records = await open_storage(self.data_dir, self.database_url, self.base)
        self.opened += [faq, records]
        assert await faq.load_all() == []
        return faq, records

    async def faq(self) -> FaqStore:
        return (await self.open())[0]

    async def records(self) -> RecordStore:
        return (await self.open())[1]


@pytest.fixture(params=["file", "postgres"])
async def backend(request, tmp_path, fixture_kb):
    url = request.getfixturevalue("pg_database") if request.param == "postgres" else None
    opener = Backend(tmp_path / "data", url, lambda: fixture_kb)
    yield opener
    for store in reversed(opener.opened):
        await store.close()


def answered(engine, faq, guild, question):
    result = engine.ask(question, scope=faq.scope_for(guild)).result
    return result.entry if result.status == "answer" else None


async def test_the_stores_satisfy_the_protocols(backend):
    faq, records = await backend.open()
    assert isinstance(faq, FaqStore) and isinstance(records, RecordStore)


# --- entries -------------------------------------------------------------------------------------------


async def test_an_added_entry_answers_in_its_server_only_and_persists(backend, fixture_engine):
    faq = await backend.faq()
    change = await faq.apply(GUILD, add_entry_op(creatine_entry(), ANA))
    assert change.action == "add" and change.entry_id == CREATINE_ID and change.by == "Ana (5)"
    assert change.entry.stewardship.created_by == "Ana (5)" and change.entry.stewardship.created_at is not None
    assert answered(fixture_engine, faq, GUILD, "does creatine make you bloated?") == CREATINE_ID
    assert answered(fixture_engine, faq, OTHER_GUILD, "does creatine make you bloated?") is None
    assert faq.scope_for(None) is None

    reopened = await backend.faq()
    assert reopened.state(GUILD).entries[CREATINE_ID] == change.entry
    assert reopened.state(OTHER_GUILD).entries == {}


async def test_an_added_id_is_only_a_wish(backend):
    faq = await backend.faq()
    first = await faq.apply(GUILD, add_entry_op(creatine_entry(), ANA))
    second = await faq.apply(GUILD, add_entry_op(creatine_entry(questions=["is creatine water weight"]), ANA))
    curated = await faq.apply(GUILD, add_entry_op(creatine_entry(id="spot-reduction", questions=["x y z w"]), ANA))
    assert (first.entry_id, second.entry_id, curated.entry_id) == (CREATINE_ID, f"{CREATINE_ID}-2",
                                                                   "spot-reduction-2")


async def test_edit_keeps_the_author_and_refuses_a_stale_revision(backend):
    faq = await backend.faq()
    added = await faq.apply(GUILD, add_entry_op(creatine_entry(), ANA))
    opened = revision_of(added.entry)
    edited = await faq.apply(GUILD, edit_entry_op(CREATINE_ID, creatine_entry(verdict="true"), BO, opened))
    assert edited.entry.verdict == "true" and edited.revision != opened
    assert edited.entry.stewardship.created_by == "Ana (5)" and edited.entry.stewardship.updated_by == "Bo (6)"

    with pytest.raises(Conflict, match="changed by someone else since you opened it; nothing was saved") as caught:
        await faq.apply(GUILD, edit_entry_op(CREATINE_ID, creatine_entry(verdict="myth"), ANA, opened))
    assert caught.value.current == edited.entry  # what to show the moderator, and the revision to retry from
    assert faq.state(GUILD).entries[CREATINE_ID] == edited.entry
    assert (await backend.faq()).state(GUILD).entries[CREATINE_ID] == edited.entry


async def test_two_moderators_save_the_same_opened_entry_one_wins_and_nothing_is_lost(backend):
    mine, theirs = await backend.faq(), await backend.faq()
    added = await mine.apply(GUILD, add_entry_op(creatine_entry(), ANA))
    await theirs.refresh(GUILD)
    opened = revision_of(theirs.state(GUILD).entries[CREATINE_ID])
    assert opened == revision_of(added.entry)  # both forms open the same version

    won = await mine.apply(GUILD, edit_entry_op(CREATINE_ID, creatine_entry(answer="Ana's answer."), ANA, opened))
    with pytest.raises(Conflict):
        await theirs.apply(GUILD, edit_entry_op(CREATINE_ID, creatine_entry(answer="Bo's answer."), BO, opened))
    await theirs.refresh(GUILD)
    assert theirs.state(GUILD).entries[CREATINE_ID] == won.entry

    # Bo opens it again, sees Ana's version, and saves his on top: every version is kept.
    await theirs.apply(GUILD, edit_entry_op(CREATINE_ID, creatine_entry(answer="Bo's answer."), BO, won.revision))
    history = await (await backend.faq()).history(GUILD, CREATINE_ID)
    assert [r.entry.answer for r in history] == ["Bo's answer.", "Ana's answer.", added.entry.answer]


async def test_remove_retires_and_restore_brings_back(backend, fixture_engine):
    faq = await backend.faq()
    await faq.apply(GUILD, add_entry_op(creatine_entry(), ANA))
    removed = await faq.apply(GUILD, remove_entry(CREATINE_ID, BO))
    assert removed.action == "retire" and removed.entry.retired
    assert answered(fixture_engine, faq, GUILD, "does creatine make you bloated") is None
    with pytest.raises(ChangeRefused, match="already retired"):
        await faq.apply(GUILD, remove_entry(CREATINE_ID, BO))
    assert (await backend.faq()).state(GUILD).entries[CREATINE_ID].retired  # kept, never deleted

    restored = await faq.apply(GUILD, restore_entry(CREATINE_ID, ANA))
    assert restored.action == "restore" and not restored.entry.retired
    assert answered(fixture_engine, faq, GUILD, "does creatine make you bloated") == CREATINE_ID


async def test_a_curated_entry_can_be_hidden_and_shown_again_in_one_server(backend, fixture_engine):
    faq = await backend.faq()
    assert (await faq.apply(GUILD, remove_entry("spot-reduction", ANA))).action == "hide"
    assert answered(fixture_engine, faq, GUILD, "does spot reduction work") is None
    assert answered(fixture_engine, faq, OTHER_GUILD, "does spot reduction work") == "spot-reduction"
    with pytest.raises(ChangeRefused, match="already hidden"):
        await faq.apply(GUILD, hide_entry("spot-reduction"))
    assert (await backend.faq()).state(GUILD).hidden == {"spot-reduction"}

    assert (await faq.apply(GUILD, restore_entry("spot-reduction", ANA))).action == "unhide"
    with pytest.raises(ChangeRefused, match="not hidden"):
        await faq.apply(GUILD, unhide_entry("spot-reduction"))
    assert answered(fixture_engine, faq, GUILD, "does spot reduction work") == "spot-reduction"
    assert (await backend.faq()).state(GUILD).hidden == frozenset()


@pytest.mark.parametrize(("operation", "message"), [
    (add_entry_op(creatine_entry(questions=["does spot reduction work"]), ANA), "reads the same as one of"),
    (add_entry_op(creatine_entry(sources=["nobody2020"]), ANA), "unknown source id 'nobody2020'"),
    (add_entry_op(creatine_entry(related=["no-such-entry"]), ANA), "unknown related id"),
    (edit_entry_op("spot-reduction", creatine_entry(), ANA, None), "curated entry"),
    (edit_entry_op("no-such-entry", creatine_entry(), ANA, None), "no entry with id"),
    (remove_entry("no-such-entry", ANA), "no entry with id"),
    (train("no-such-entry", ["some new words"], ANA), "no entry with id"),
])
async def test_an_invalid_change_is_refused_and_saves_nothing(backend, operation, message):
    faq = await backend.faq()
    with pytest.raises(ChangeRefused, match=message):
        await faq.apply(GUILD, operation)
    for view in (faq, await backend.faq()):
        state = view.state(GUILD)
        assert (dict(state.entries), state.hidden, dict(state.trained)) == ({}, frozenset(), {})


async def test_history_lists_every_saved_version_newest_first(backend):
    faq = await backend.faq()
    added = await faq.apply(GUILD, add_entry_op(creatine_entry(), ANA))
    edited = await faq.apply(GUILD, edit_entry_op(CREATINE_ID, creatine_entry(verdict="true"), BO, added.revision))
    retired = await faq.apply(GUILD, remove_entry(CREATINE_ID, ANA))
    await faq.apply(GUILD, hide_entry("spot-reduction"))  # not an entry of the server's: no version

    history = await (await backend.faq()).history(GUILD, CREATINE_ID)
    assert [r.revision for r in history] == [retired.revision, edited.revision, added.revision]
    assert [r.saved_by for r in history] == ["Ana (5)", "Bo (6)", "Ana (5)"]
    assert history[0].entry.retired and history[-1].saved_at == added.entry.stewardship.created_at
    assert len(await faq.history(GUILD, CREATINE_ID, limit=2)) == 2
    assert await faq.history(GUILD, "spot-reduction") == []
    assert await faq.history(OTHER_GUILD, CREATINE_ID) == []


async def test_history_comes_from_storage_when_this_process_holds_an_older_version(backend):
    mine, theirs = await backend.faq(), await backend.faq()
    added = await mine.apply(GUILD, add_entry_op(creatine_entry(), ANA))
    await theirs.refresh(GUILD)
    edited = await mine.apply(GUILD, edit_entry_op(CREATINE_ID, creatine_entry(verdict="true"), BO, added.revision))
    assert [r.revision for r in await theirs.history(GUILD, CREATINE_ID)] == [edited.revision, added.revision]


async def test_export_holds_the_live_entries_in_the_curated_format(backend):
    faq = await backend.faq()
    await faq.apply(GUILD, add_entry_op(creatine_entry(), ANA))
    other = await faq.apply(GUILD, add_entry_op(creatine_entry(id="creatine-timing", title="When to take creatine?",
                                                               questions=["when should i take creatine"]), ANA))
    await faq.apply(GUILD, remove_entry(other.entry_id, ANA))
    await faq.apply(GUILD, hide_entry("spot-reduction"))
    text, count = await faq.export_yaml(GUILD)
    data = yaml.safe_load(text)
    assert count == 1 and [myth["id"] for myth in data["myths"]] == [CREATINE_ID] and "hidden" not in data


async def test_a_taught_phrasing_answers_in_its_server_only(backend, fixture_engine):
    faq = await backend.faq()
    question = "tummy crunches to lose the pooch, worth it"
    assert answered(fixture_engine, faq, GUILD, question) is None
    await faq.apply(GUILD, train("spot-reduction", [question], ANA))
    assert answered(fixture_engine, faq, GUILD, question) == "spot-reduction"
    assert answered(fixture_engine, faq, OTHER_GUILD, question) is None
    assert answered(fixture_engine, await backend.faq(), GUILD, question) == "spot-reduction"  # after a restart


async def test_taught_phrasings_are_kept_checked_and_can_be_forgotten(backend):
    faq = await backend.faq()
    taught = await faq.apply(GUILD, train("spot-reduction", [LOVE_HANDLES, " does spot reduction work "], ANA))
    assert (taught.action, taught.by, taught.phrasings) == ("train", "Ana (5)", (LOVE_HANDLES,))
    assert faq.state(GUILD).trained == {"spot-reduction": (LOVE_HANDLES,)}  # the entry's own question is skipped
    assert (await backend.faq()).state(GUILD).trained == {"spot-reduction": (LOVE_HANDLES,)}
    assert faq.state(OTHER_GUILD).trained == {}

    refusals = [
        (train("spot-reduction", ["Can I melt my love handles with side bends?"], ANA), "nothing to teach"),
        (train("protein-intake", ["does spot reduction work"], ANA), "reads the same as a question of 'spot-red"),
        (train("protein-intake", [LOVE_HANDLES], ANA), "taught for both 'protein-intake' and 'spot-reduction'"),
        (add_entry_op(creatine_entry(questions=[LOVE_HANDLES]), ANA), "reads the same as a question of"),
        (untrain("protein-intake", [LOVE_HANDLES], ANA), "no taught phrasing"),
    ]
    for operation, message in refusals:
        with pytest.raises(ChangeRefused, match=message):
            await faq.apply(GUILD, operation)

    added = await faq.apply(GUILD, add_entry_op(creatine_entry(), ANA))
    await faq.apply(GUILD, train(added.entry_id, ["is creatine just water"], BO))
    await faq.apply(GUILD, hide_entry("squats-hip-dips"))
    with pytest.raises(ChangeRefused, match="hidden in this server"):
        await faq.apply(GUILD, train("squats-hip-dips", ["hip dip squats any good"], ANA))

    forgotten = await faq.apply(GUILD, untrain("spot-reduction", ["Can I melt my love handles with side bends?"], BO))
    assert (forgotten.action, forgotten.phrasings) == ("untrain", (LOVE_HANDLES,))  # as it was taught
    assert (await backend.faq()).state(GUILD).trained == {CREATINE_ID: ("is creatine just water",)}


async def test_hiding_an_entry_with_taught_phrasings_is_allowed_and_keeps_them(backend):
    faq = await backend.faq()
    await faq.apply(GUILD, train("spot-reduction", [LOVE_HANDLES], ANA))
    await faq.apply(GUILD, hide_entry("spot-reduction"))
    # Hidden, it claims nothing here: the server's own version may use the phrasing ...
    await faq.apply(GUILD, add_entry_op(creatine_entry(questions=[LOVE_HANDLES]), ANA))
    # ... and showing the curated one again would make the phrasing lead to two entries.
    with pytest.raises(ChangeRefused, match="reads the same as a question of"):
        await faq.apply(GUILD, unhide_entry("spot-reduction"))
    assert (await backend.faq()).state(GUILD).trained == {"spot-reduction": (LOVE_HANDLES,)}


async def test_guild_ids_lists_every_server_that_saved_something_from_storage(backend):
    faq = await backend.faq()
    assert await faq.guild_ids() == []
    await faq.apply(OTHER_GUILD, train("spot-reduction", [LOVE_HANDLES], ANA))
    await faq.apply(GUILD, hide_entry("spot-reduction"))
    with pytest.raises(ChangeRefused):
        await faq.apply(333, remove_entry("no-such-entry", ANA))  # refused: nothing saved, not listed
    await (await backend.records()).record_decision(444, 1, "none", None, 0.0)  # records are not entries
    assert await faq.guild_ids() == [GUILD, OTHER_GUILD]

    other_process = await backend.faq()
    await other_process.apply(555, add_entry_op(creatine_entry(), BO))
    assert await faq.guild_ids() == [GUILD, OTHER_GUILD, 555]  # read from storage, not this process's memory
    await faq.apply(OTHER_GUILD, untrain("spot-reduction", [LOVE_HANDLES], ANA))
    assert await faq.guild_ids() == [GUILD, OTHER_GUILD, 555]  # emptied, still known


async def test_another_process_change_shows_after_refresh(backend):
    mine, theirs = await backend.faq(), await backend.faq()
    await mine.apply(GUILD, add_entry_op(creatine_entry(), ANA))
    assert CREATINE_ID not in theirs.state(GUILD).entries
    await theirs.refresh(GUILD)
    assert CREATINE_ID in theirs.state(GUILD).entries
    await theirs.refresh(GUILD)  # nothing changed since: still there
    assert await theirs.reload(GUILD) == [] and CREATINE_ID in theirs.state(GUILD).entries


# --- records ----------------------------------------------------------------------------------------------


async def test_unanswered_questions_round_trip_per_server(backend):
    records = await backend.records()
    await records.record_unanswered(GUILD, 10, "is creatine safe", "protein-intake", 40.0)
    await records.record_unanswered(OTHER_GUILD, 20, "best shoes")
    await records.record_unanswered(None, None, "dm question")
    [asked] = await records.unanswered(GUILD)
    assert (asked.question, asked.best_entry, asked.score) == ("is creatine safe", "protein-intake", 40.0)
    assert [u.question for u in await records.unanswered(None)] == ["dm question"]
    assert await records.unanswered(GUILD, since=asked.created_at + 1) == []
    assert [u.question for u in await (await backend.records()).unanswered(OTHER_GUILD)] == ["best shoes"]


async def test_one_vote_per_member_per_answer(backend):
    records = await backend.records()
    assert await records.record_feedback(GUILD, 100, 7, entry_id="spot-reduction", helpful=True)
    assert not await records.record_feedback(GUILD, 100, 7, entry_id="spot-reduction", helpful=False)
    assert await records.record_feedback(OTHER_GUILD, 101, 8, entry_id="spot-reduction", helpful=True,
                                         question="spot reduction?")
    assert await records.feedback_counts("spot-reduction") == (1, 1)
    assert await records.feedback_counts("spot-reduction", GUILD) == (0, 1)
    [vote] = await records.votes(GUILD, 0.0)
    assert vote == Vote(vote.created_at, "spot-reduction", False)


async def test_the_audit_log_lists_newest_first(backend):
    records = await backend.records()
    await records.audit(GUILD, 5, "Ana", "add", entry_id=CREATINE_ID, detail="first")
    await records.audit(GUILD, 6, "Bo", "hide", entry_id="spot-reduction")
    await records.audit(OTHER_GUILD, 6, "Bo", "reload")
    log = await (await backend.records()).audit_log(GUILD)
    assert [(r.actor_name, r.action, r.entry_id, r.detail) for r in log] == [
        ("Bo", "hide", "spot-reduction", None), ("Ana", "add", CREATINE_ID, "first")]
    assert [r.action for r in await records.audit_log(GUILD, limit=1)] == ["hide"]


async def test_decisions_are_kept_per_server_in_order(backend):
    records = await backend.records()
    started = time.time() - 1
    await records.record_decision(GUILD, 10, "answer", "spot-reduction", 91.0)
    await records.record_decision(GUILD, 10, "clarify", None, 60.0)
    await records.record_decision(GUILD, 11, "none", None, 12.5)
    await records.record_decision(None, None, "answer", "protein-intake", 88.0)
    decisions = await records.decisions(GUILD, started)
    assert [(d.status, d.entry_id) for d in decisions] == [("answer", "spot-reduction"), ("clarify", None),
                                                           ("none", None)]
    assert all(isinstance(d, Decision) for d in decisions)
    assert [d.entry_id for d in await records.decisions(None, 0.0)] == ["protein-intake"]
    assert await records.decisions(GUILD, decisions[-1].created_at + 1) == []


async def test_suggestions_wait_for_a_moderator(backend):
    records = await backend.records()
    first = await records.record_suggestion(GUILD, "wtf is a hipdip", "squats-hip-dips", "pick", member_id=7)
    second = await records.record_suggestion(GUILD, "belly fat crunches", "spot-reduction", "reask")
    await records.record_suggestion(OTHER_GUILD, "protein?", "protein-intake", "pick")
    assert [(s.id, s.question, s.source, s.member_id) for s in await records.suggestions(GUILD)] == [
        (first, "wtf is a hipdip", "pick", 7), (second, "belly fat crunches", "reask", None)]

    assert await records.resolve_suggestion(GUILD, first, "approved")
    assert not await records.resolve_suggestion(GUILD, first, "rejected")  # no longer pending
    assert not await records.resolve_suggestion(OTHER_GUILD, second, "rejected")  # another server's
    assert await records.suggested_since(7, 0.0) == 1  # in every server, whatever became of it
    assert await records.suggested_since(7, time.time() + 1) == 0
    reopened = await backend.records()
    assert [s.id for s in await reopened.suggestions(GUILD)] == [second]
    assert [(s.id, s.status) for s in await reopened.suggestions(GUILD, "approved")] == [(first, "approved")]


async def test_what_members_wrote_is_forgotten_by_age_and_the_counts_stay(backend):
    records = await backend.records()
    await records.record_unanswered(GUILD, 10, "old question")
    await records.record_suggestion(GUILD, "old suggestion", "squats-hip-dips", "pick")
    await records.record_feedback(GUILD, 100, 7, entry_id="spot-reduction", helpful=True, question="old vote")
    await records.record_decision(GUILD, 10, "none", None, 12.0)
    cutoff = time.time() + 1e-6  # after every old record
    while time.time() <= cutoff:  # and before every newer one (microseconds)
        continue
    await records.record_unanswered(GUILD, 10, "new question")
    await records.record_suggestion(GUILD, "new suggestion", "spot-reduction", "reask")
    await records.record_feedback(GUILD, 101, 7, entry_id="spot-reduction", helpful=False, question="new vote")

    assert await records.forget_questions(cutoff) == 3
    assert [u.question for u in await records.unanswered(GUILD)] == ["new question"]
    assert [s.question for s in await records.suggestions(GUILD)] == ["new suggestion"]
    assert await records.feedback_counts("spot-reduction", GUILD) == (1, 1)  # the old vote still counts
    assert len(await records.decisions(GUILD, 0.0)) == 1
    assert await records.forget_questions(cutoff) == 0  # nothing left that old


async def test_a_database_url_of_another_kind_is_refused(tmp_path, fixture_kb):
    with pytest.raises(StorageError, match="must start with postgresql://"):
        await open_storage(tmp_path, "mysql://localhost/mythbot", lambda: fixture_kb)
