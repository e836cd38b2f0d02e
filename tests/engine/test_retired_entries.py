"""Retired means gone for members everywhere (a curated `retired: true` entry, or one a guild's moderators
retired), while moderators still reach it by asking for retired entries explicitly."""

from types import MappingProxyType

from bot.engine.engine import Engine, Scope
from bot.engine.knowledge import KnowledgeBase


def retiring(kb: KnowledgeBase, *entry_ids: str) -> KnowledgeBase:
    entries = {eid: e.model_copy(update={"retired": True}) if eid in entry_ids else e for eid, e in kb.entries.items()}
    return KnowledgeBase(entries=MappingProxyType(entries), sources=kb.sources, origins=kb.origins)


def test_a_retired_curated_entry_is_gone_for_members(fixture_kb):
    engine = Engine(retiring(fixture_kb, "protein-intake", "clamshell"))
    assert engine.entry("protein-intake") is None
    assert engine.view("protein-intake") is None
    assert engine.find_exercise("clamshell") is None  # not even by its exact id
    assert engine.ask("how much protein should i eat").result.entry != "protein-intake"


def test_a_guild_s_retired_entry_is_gone_for_members_but_moderators_still_reach_it(fixture_kb):
    own = fixture_kb.entries["protein-intake"].model_copy(update={"id": "our-protein", "retired": True})
    scope = Scope.of({"our-protein": own})
    engine = Engine(fixture_kb)
    assert engine.entry("our-protein", scope) is None
    assert engine.view("our-protein", scope) is None
    assert engine.entry("our-protein", scope, retired=True) is own
    assert engine.view("our-protein", scope, retired=True).title == own.title


def test_live_and_hidden_entries_are_unchanged(fixture_kb):
    engine = Engine(fixture_kb)
    hidden_here = Scope.of({}, hidden=frozenset({"spot-reduction"}))
    assert engine.view("spot-reduction").title == "Can you burn fat from one spot?"
    assert engine.entry("spot-reduction", hidden_here) is None
    assert engine.entry("spot-reduction", hidden_here, retired=True) is None  # hiding is not retiring
