"""Members' suggestions without Discord: which member actions become a suggestion (`SuggestionWatch`), what
is stored (`MemberSuggestions`, over the real file stores and the fixture engine), and what moderators
approve or dismiss (`SuggestionBoard`). Nothing a member does changes an answer until a moderator approves."""

import pytest

from bot.faq.suggestions import Candidate, MemberSuggestions, SuggestionBoard, SuggestionWatch
from bot.storage.factory import open_storage
from bot.workers import Workers
from tests.storage.conftest import ANA, GUILD, OTHER_GUILD

CHANNEL = 7
ALICE, BOB = 1001, 1002


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def watch(clock):
    return SuggestionWatch(window=300, per_member=3, cap_window=3600, capacity=100, clock=clock)


@pytest.fixture
async def stores(tmp_path, fixture_engine):
    faq, records = await open_storage(tmp_path / "data", None, lambda: fixture_engine.kb)
    await faq.load_all()
    workers = Workers()
    yield faq, records, workers
    await workers.drain()
    await faq.close()
    await records.close()
    workers.close()


@pytest.fixture
def members(stores, watch):
    _, records, workers = stores
    return MemberSuggestions(records, workers, watch)


@pytest.fixture
def board(stores, fixture_engine):
    faq, records, workers = stores
    return SuggestionBoard(lambda: fixture_engine, faq, records, workers)


def key(member=ALICE, guild=GUILD, channel=CHANNEL):
    return guild, channel, member


def knowledge_of(fixture_engine, faq, guild=GUILD):
    return fixture_engine.for_guild(faq.scope_for(guild))


# --- which actions make a candidate ----------------------------------------------------------------------


def test_an_answer_right_after_no_answer_is_a_candidate(watch):
    assert watch.replied(key(), "wtf is a hipdip", "none", None) is None
    assert watch.replied(key(), "will squats fix my hip dips", "answer", "squats-hip-dips") == Candidate(
        GUILD, ALICE, "wtf is a hipdip", "squats-hip-dips", "reask")


def test_an_answer_after_a_did_you_mean_is_a_candidate(watch):
    watch.replied(key(), "how do i shrink my hips", "clarify", "squats-glute-growth")
    found = watch.replied(key(), "will squats grow my hips", "answer", "squats-glute-growth")
    assert found == Candidate(GUILD, ALICE, "how do i shrink my hips", "squats-glute-growth", "reask")


def test_asking_again_after_a_good_answer_is_no_candidate(watch):
    watch.replied(key(), "squats", "answer", "squats-glute-growth")
    assert watch.replied(key(), "how much protein should i eat", "answer", "protein-intake") is None


def test_a_rejected_answer_then_another_entry_is_a_candidate(watch):
    watch.replied(key(), "squats", "answer", "squats-glute-growth")
    watch.rejected(key(), "squats-glute-growth")
    assert watch.replied(key(), "squats again", "answer", "squats-glute-growth") is None  # the same entry: no better
    watch.replied(key(), "squats", "answer", "squats-glute-growth")
    watch.rejected(key(), "squats-glute-growth")
    assert watch.replied(key(), "will squats fix my hip dips", "answer", "squats-hip-dips") == Candidate(
        GUILD, ALICE, "squats", "squats-hip-dips", "reask")


def test_rejecting_an_answer_that_is_not_ones_own_last_changes_nothing(watch):
    watch.replied(key(), "squats", "answer", "squats-glute-growth")
    watch.rejected(key(), "protein-intake")  # a button on another answer (someone else's)
    watch.rejected(key(BOB), "squats-glute-growth")  # Bob has no reply here
    assert watch.picked(key(), "squats-hip-dips") is None
    assert watch.picked(key(BOB), "squats-hip-dips") is None


def test_a_pick_after_not_what_i_asked_is_a_candidate_once(watch):
    watch.replied(key(), "squats", "answer", "squats-glute-growth")
    watch.rejected(key(), "squats-glute-growth")
    assert watch.picked(key(), "squats-hip-dips") == Candidate(GUILD, ALICE, "squats", "squats-hip-dips", "pick")
    assert watch.picked(key(), "spot-reduction") is None  # the pick satisfied that reply


def test_a_pick_from_a_did_you_mean_is_a_candidate(watch):
    watch.replied(key(), "how do i shrink my hips", "clarify", "squats-glute-growth")
    assert watch.picked(key(), "squats-hip-dips") == Candidate(
        GUILD, ALICE, "how do i shrink my hips", "squats-hip-dips", "pick")


def test_only_the_same_member_channel_and_server_within_the_window_count(watch, clock):
    watch.replied(key(), "wtf is a hipdip", "none", None)
    assert watch.replied(key(BOB), "will squats fix my hip dips", "answer", "squats-hip-dips") is None
    assert watch.replied(key(channel=8), "will squats fix my hip dips", "answer", "squats-hip-dips") is None
    assert watch.replied(key(guild=OTHER_GUILD), "will squats fix my hip dips", "answer", "squats-hip-dips") is None
    watch.replied(key(), "wtf is a hipdip", "none", None)
    clock.now += 301
    assert watch.replied(key(), "will squats fix my hip dips", "answer", "squats-hip-dips") is None


def test_memory_is_bounded(clock):
    watch = SuggestionWatch(capacity=2, clock=clock)
    for member in (1, 2, 3):
        watch.replied(key(member), "wtf is a hipdip", "none", None)
    assert watch.replied(key(1), "will squats fix my hip dips", "answer", "squats-hip-dips") is None  # forgotten
    assert watch.replied(key(3), "will squats fix my hip dips", "answer", "squats-hip-dips") is not None


def test_one_member_is_capped_per_hour_and_suggests_a_phrasing_once(watch, clock):
    def candidate(question, member=ALICE):
        return Candidate(GUILD, member, question, "squats-hip-dips", "pick")

    assert watch.admit(candidate("hipdip squat"))
    assert not watch.admit(candidate("Hipdip squat!"))  # the same phrasing, once
    assert watch.admit(candidate("squat hipdip 2")) and watch.admit(candidate("squat hipdip 3"))
    assert not watch.admit(candidate("squat hipdip 4"))  # past three an hour
    assert watch.admit(candidate("squat hipdip 4", member=BOB))  # others are not held back
    clock.now += 3600
    assert watch.admit(candidate("squat hipdip 4"))


# --- what is stored ----------------------------------------------------------------------------------------


async def test_a_candidate_is_stored_as_pending(members, stores, fixture_engine):
    faq, records, _ = stores
    stored = await members.keep(Candidate(GUILD, ALICE, "wtf is a hipdip", "squats-hip-dips", "reask"),
                                knowledge_of(fixture_engine, faq))
    [suggestion] = await records.suggestions(GUILD)
    assert (suggestion.id, suggestion.question, suggestion.entry_id, suggestion.source, suggestion.status,
            suggestion.member_id) == (stored, "wtf is a hipdip", "squats-hip-dips", "reask", "pending", ALICE)


async def test_a_question_the_entry_already_answers_is_not_stored(members, stores, fixture_engine):
    faq, records, _ = stores
    knowledge = knowledge_of(fixture_engine, faq)
    assert await members.keep(Candidate(GUILD, ALICE, "do squats get rid of hip dips", "squats-hip-dips", "pick"),
                              knowledge) is None
    assert await members.keep(Candidate(GUILD, ALICE, "wtf is a hipdip", "no-such-entry", "pick"), knowledge) is None
    assert await members.keep(Candidate(GUILD, ALICE, "???", "squats-hip-dips", "pick"), knowledge) is None
    assert await records.suggestions(GUILD) == []


# --- what moderators do --------------------------------------------------------------------------------------


async def suggest(records, pairs):
    return [await records.record_suggestion(GUILD, question, entry_id, "pick") for question, entry_id in pairs]


async def test_the_board_groups_by_entry_and_phrasing_most_suggested_first(board, stores):
    _, records, _ = stores
    ids = await suggest(records, [("squats", "spot-reduction"), ("wtf is a hipdip", "squats-hip-dips"),
                                  ("Squats!", "spot-reduction"), ("squats", "spot-reduction"),
                                  ("belly fat crunches", "spot-reduction")])
    await records.record_suggestion(OTHER_GUILD, "squats", "protein-intake", "pick")
    page = await board.page(GUILD)
    assert [(p.entry_id, p.question, p.members, p.id) for p in page.proposals] == [
        ("spot-reduction", "squats", 3, ids[0]),
        ("spot-reduction", "belly fat crunches", 1, ids[4]),
        ("squats-hip-dips", "wtf is a hipdip", 1, ids[1]),
    ]
    assert page.proposals[0].title == board.title(GUILD, "spot-reduction") != "(no longer in the knowledge)"
    assert (page.number, page.count, page.total) == (0, 1, 3)


async def test_the_board_counts_members_not_rows_even_after_a_restart(board, stores, fixture_engine, clock):
    faq, records, workers = stores
    knowledge = knowledge_of(fixture_engine, faq)
    for _ in range(2):  # the same member before and after a restart (a new watch forgets what it admitted)
        fresh = MemberSuggestions(records, workers, SuggestionWatch(clock=clock))
        assert await fresh.keep(Candidate(GUILD, ALICE, "wtf is a hipdip", "squats-hip-dips", "pick"), knowledge)
    await fresh.keep(Candidate(GUILD, ALICE + 1, "WTF is a hipdip?", "squats-hip-dips", "reask"), knowledge)
    [proposal] = (await board.page(GUILD)).proposals
    assert (len(proposal.ids), proposal.members) == (3, 2)


async def test_the_hourly_cap_holds_across_restarts(stores, fixture_engine, clock):
    faq, records, workers = stores
    knowledge = knowledge_of(fixture_engine, faq)
    kept = []
    for n in range(3):  # a restart before each: a new watch remembers nothing
        fresh = MemberSuggestions(records, workers, SuggestionWatch(per_member=2, clock=clock))
        kept.append(await fresh.keep(Candidate(GUILD, ALICE, f"wtf is a hipdip {n}", "squats-hip-dips", "pick"),
                                     knowledge))
    assert kept[0] and kept[1] and kept[2] is None
    assert await records.suggested_since(ALICE, 0.0) == 2


async def test_the_board_pages(board, stores):
    _, records, _ = stores
    await suggest(records, [(f"question number {n}", "spot-reduction") for n in range(6)])
    first, last = await board.page(GUILD, 0), await board.page(GUILD, 9)
    assert (first.count, len(first.proposals), last.number, len(last.proposals)) == (2, 4, 1, 2)


async def test_a_flood_of_bogus_picks_changes_nothing_until_approved(board, members, stores, fixture_engine):
    faq, records, _ = stores
    for member in range(50):  # fifty members say "squats" meant protein
        await members.keep(Candidate(GUILD, member, "squats", "protein-intake", "pick"),
                           knowledge_of(fixture_engine, faq))
    assert len(await records.suggestions(GUILD)) == 50
    assert knowledge_of(fixture_engine, faq).ask("squats").result.entry == "squats-glute-growth"
    assert faq.state(GUILD).trained == {}
    [proposal] = (await board.page(GUILD)).proposals
    assert proposal.members == 50


async def test_approving_teaches_exactly_that_phrasing_and_resolves_it(board, stores, fixture_engine):
    faq, records, _ = stores
    ids = await suggest(records, [("wtf is a hipdip", "squats-hip-dips"), ("WTF is a hip-dip?", "squats-hip-dips"),
                                  ("belly fat crunches", "spot-reduction")])
    assert knowledge_of(fixture_engine, faq).ask("wtf is a hipdip").result.status != "answer"
    done = await board.approve(GUILD, ANA, ids[1])
    assert done.ok and "squats-hip-dips" in done.text
    assert faq.state(GUILD).trained == {"squats-hip-dips": ("wtf is a hipdip",)}
    reply = knowledge_of(fixture_engine, faq).ask("wtf is a hipdip")
    assert (reply.result.status, reply.result.entry) == ("answer", "squats-hip-dips")
    assert [s.id for s in await records.suggestions(GUILD, "approved")] == ids[:2]
    assert [s.id for s in await records.suggestions(GUILD)] == [ids[2]]
    await board.workers.drain()
    [audit] = await records.audit_log(GUILD)
    assert (audit.action, audit.entry_id, audit.actor_id) == ("train", "squats-hip-dips", ANA.id)
    assert "wtf is a hipdip" in audit.detail
    again = await board.approve(GUILD, ANA, ids[0])
    assert not again.ok and "already" in again.text


async def test_dismissing_teaches_nothing(board, stores, fixture_engine):
    faq, records, _ = stores
    [bogus] = await suggest(records, [("squats", "protein-intake")])
    done = await board.dismiss(GUILD, ANA, bogus)
    assert done.ok and faq.state(GUILD).trained == {}
    assert [s.id for s in await records.suggestions(GUILD, "rejected")] == [bogus]
    assert (await board.page(GUILD)).total == 0
    await board.workers.drain()
    assert [a.action for a in await records.audit_log(GUILD)] == ["dismiss"]


async def test_an_approval_the_store_refuses_stays_pending(board, stores):
    faq, records, _ = stores
    [taken] = await suggest(records, [("how much protein should i eat", "spot-reduction")])  # protein's question
    refusal = await board.approve(GUILD, ANA, taken)
    assert not refusal.ok and "protein-intake" in refusal.text
    assert faq.state(GUILD).trained == {}
    assert [s.id for s in await records.suggestions(GUILD)] == [taken]

