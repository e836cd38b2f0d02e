"""Phrasings moderators taught for curated entries, gathered from servers into a patch for `knowledge/`.

`gather` is pure (curated knowledge + each server's state in, a `Patch` out); `patch_yaml` writes it
as the reviewable YAML that `mythbot gaps export` prints and a curator pastes from in a pull request.

A taught phrasing is proposed when it adds something: one that normalises the same as a phrasing the
entry already has is left out, and so is one that now reads the same as another curated entry's (the
knowledge changed since it was taught; `mythbot validate` would refuse it). Phrasings that normalise
the same are one proposal, counted once per server that taught it, spelled as most servers did.
"""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import yaml

from bot.engine.knowledge import KnowledgeBase
from bot.engine.normalize import normalize
from bot.storage.base import GuildState

ALREADY_THERE = "the entry already has it"
HIDDEN = "the entry is hidden in that server"
EMPTY_WORDS = "only words the matcher ignores"


@dataclass(frozen=True)
class Proposal:
    """One phrasing to append to a curated entry's `questions:`, and the servers that taught it."""

    text: str
    guilds: tuple[int, ...]


@dataclass(frozen=True)
class Disputed:
    """One phrasing taught for different curated entries in different servers: a curator picks one."""

    text: str
    entries: Mapping[str, tuple[int, ...]]


@dataclass(frozen=True)
class LeftOut:
    guild_id: int
    entry_id: str
    text: str
    reason: str


@dataclass(frozen=True)
class Patch:
    guilds: tuple[int, ...]  # every server read, ascending
    proposals: Mapping[str, tuple[Proposal, ...]]  # by curated entry id; most servers first
    disputed: tuple[Disputed, ...]
    left_out: tuple[LeftOut, ...]

    @property
    def phrasings(self) -> int:
        return sum(len(proposals) for proposals in self.proposals.values())

    def per_guild(self) -> dict[int, int]:
        """How many of the proposed phrasings each server taught."""
        counts = dict.fromkeys(self.guilds, 0)
        for proposals in self.proposals.values():
            for proposal in proposals:
                for guild_id in proposal.guilds:
                    counts[guild_id] += 1
        return counts


def gather(kb: KnowledgeBase, states: Mapping[int, GuildState]) -> Patch:
    """The taught phrasings of curated entries across `states` (server id -> its state)."""
    owner: dict[str, str] = {}
    for entry in kb.entries.values():
        for text in entry.phrasings:
            owner.setdefault(normalize(text), entry.id)
    own = {entry.id: {normalize(text) for text in entry.phrasings} for entry in kb.entries.values()}
    taught: dict[str, dict[str, dict[int, str]]] = {}  # normalised text -> entry id -> server -> text
    left_out: list[LeftOut] = []
    for guild_id in sorted(states):
        state = states[guild_id]
        for entry_id, texts in state.trained.items():
            if entry_id not in kb.entries:
                continue  # the server's own entry: nothing for knowledge/
            for text in texts:
                key = normalize(text)
                reason = _left_out_because(key, entry_id, state, own, owner)
                if reason:
                    left_out.append(LeftOut(guild_id, entry_id, text, reason))
                else:
                    taught.setdefault(key, {}).setdefault(entry_id, {}).setdefault(guild_id, text)
    proposals: dict[str, list[Proposal]] = {}
    disputed = []
    for by_entry in taught.values():
        if len(by_entry) > 1:
            disputed.append(Disputed(_spelling(by_entry), {entry_id: tuple(sorted(by_guild))
                                                           for entry_id, by_guild in sorted(by_entry.items())}))
            continue
        [(entry_id, by_guild)] = by_entry.items()
        proposals.setdefault(entry_id, []).append(Proposal(_spelling(by_entry), tuple(sorted(by_guild))))
    ranked = {entry_id: tuple(sorted(found, key=lambda p: (-len(p.guilds), p.text.casefold(), p.text)))
              for entry_id, found in proposals.items()}
    return Patch(tuple(sorted(states)), ranked, tuple(sorted(disputed, key=lambda d: d.text.casefold())),
                 tuple(left_out))


def _left_out_because(key: str, entry_id: str, state: GuildState, own: Mapping[str, set[str]],
                      owner: Mapping[str, str]) -> str | None:
    if entry_id in state.hidden:
        return HIDDEN  # it answers nothing there, so that server no longer vouches for it
    if not key:
        return EMPTY_WORDS
    if key in own[entry_id]:
        return ALREADY_THERE
    if owner.get(key, entry_id) != entry_id:
        return f"it reads the same as a phrasing of {owner[key]!r}"
    return None


def _spelling(by_entry: Mapping[str, Mapping[int, str]]) -> str:
    """The spelling most servers used; on a tie, the one of the lowest server id."""
    spellings = [text for by_guild in by_entry.values() for _, text in sorted(by_guild.items())]
    counts = Counter(spellings)
    return max(spellings, key=lambda text: counts[text])  # max keeps the first of equals


# --- the YAML a curator reads ---------------------------------------------------------------------------

HEADER = """\
# Phrasings moderators taught for curated entries, proposed for knowledge/ (`mythbot gaps export`).
# Under `files`, each curated file (as named by `mythbot validate`) and entry id lists `questions`
# to append to that entry's `questions:`; `servers` says how many servers taught each phrasing.
# `line` is where the entry starts. Run `mythbot validate` after pasting.
# `disputed` phrasings were taught for different entries in different servers: choose one by hand.
# `guilds` is every server read, with how many of the phrasings below it taught.
"""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # list items indented under their key, as in knowledge/


class _Ids(list[int]):
    """Server ids, written on one line."""


_Dumper.add_representer(_Ids, lambda dumper, ids: dumper.represent_sequence("tag:yaml.org,2002:seq", ids,
                                                                             flow_style=True))


def patch_data(patch: Patch, kb: KnowledgeBase) -> dict[str, object]:
    """The patch as plain data: what `patch_yaml` writes."""
    files: dict[str, dict[str, dict[str, object]]] = {}
    for entry_id in sorted(patch.proposals, key=lambda eid: (kb.origins[eid].file, kb.origins[eid].line)):
        proposals, origin = patch.proposals[entry_id], kb.origins[entry_id]
        files.setdefault(origin.file, {})[entry_id] = {
            "title": kb.entries[entry_id].title,
            "line": origin.line,
            "questions": [p.text for p in proposals],
            "servers": {p.text: len(p.guilds) for p in proposals},
        }
    data: dict[str, object] = {"phrasings": patch.phrasings, "guilds": patch.per_guild(), "files": files}
    if patch.disputed:
        data["disputed"] = [{"question": d.text, "entries": {eid: _Ids(guilds) for eid, guilds in d.entries.items()}}
                            for d in patch.disputed]
    return data


def patch_yaml(patch: Patch, kb: KnowledgeBase) -> str:
    body = yaml.dump(patch_data(patch, kb), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10**6)
    return HEADER + body


def left_out_summary(patch: Patch) -> list[str]:
    """One line per reason a taught phrasing was left out, with how many."""
    counts = Counter(item.reason for item in patch.left_out)
    return [f"left out {count} phrasing(s): {reason}" for reason, count in sorted(counts.items())]
