"""Gathering taught phrasings into a patch for knowledge/ (the pure part behind `mythbot gaps export`)."""

from bot.storage.base import GuildState
from bot.storage.guild_file import GuildFile
from bot.upstream import ALREADY_THERE, HIDDEN, gather


def state(trained: dict[str, list[str]], hidden: tuple[str, ...] = ()) -> GuildState:
    return GuildState.of(GuildFile(trained=trained, hidden=list(hidden)), "test")


def test_a_phrasing_is_spelled_as_most_servers_taught_it_and_counted_once_per_server(fixture_kb):
    patch = gather(fixture_kb, {
        30: state({"spot-reduction": ["melt love handles?"]}),
        10: state({"spot-reduction": ["Melt love handles"]}),
        20: state({"spot-reduction": ["melt love handles?"]}),
    })
    [proposal] = patch.proposals["spot-reduction"]
    assert (proposal.text, proposal.guilds) == ("melt love handles?", (10, 20, 30))
    assert patch.per_guild() == {10: 1, 20: 1, 30: 1} and patch.phrasings == 1


def test_most_taught_first_and_only_what_adds_something(fixture_kb):
    patch = gather(fixture_kb, {
        1: state({"spot-reduction": ["zz last alphabetically", "belly fat crunches yes"],
                  "own-entry": ["not a curated entry"]}),
        2: state({"spot-reduction": ["Belly fat crunches, yes?"], "protein-intake": ["protein per day"]},
                 hidden=("protein-intake",)),
    })
    assert [p.text for p in patch.proposals["spot-reduction"]] == ["belly fat crunches yes", "zz last alphabetically"]
    assert set(patch.proposals) == {"spot-reduction"}
    assert [(item.guild_id, item.reason) for item in patch.left_out] == [(2, HIDDEN)]


def test_a_phrasing_the_entry_has_is_left_out(fixture_kb):
    patch = gather(fixture_kb, {1: state({"spot-reduction": ["Does spot-reduction work??"]})})
    assert patch.proposals == {} and [item.reason for item in patch.left_out] == [ALREADY_THERE]
