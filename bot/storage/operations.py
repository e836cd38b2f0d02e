"""The changes moderators make, as pure functions, and the checks every backend runs before saving.

An `Operation` maps a server's current content (and the curated base, and the time) to the next
content and a `Change`. Backends read the current content under their lock, call `run_checked`, and
save what it returns: so every rule lives here once, whatever stores the result.

Storage only stores: an entry reaches `add_entry_op` / `edit_entry_op` complete and validated, built by
whatever front end the moderator used (the Discord form's parsing is `bot.faq.drafts`).
"""

import re
from collections.abc import Iterable
from datetime import datetime
from types import MappingProxyType

from bot.engine.knowledge import KnowledgeBase, ParsedFile, assemble
from bot.engine.normalize import normalize
from bot.engine.schema import Entry, Stewardship, slugify
from bot.engine.yamlsafe import Problem
from bot.storage.base import (
    Actor,
    Change,
    ChangeRefused,
    Conflict,
    GuildState,
    Operation,
    SaveFailed,
    revision_of,
)
from bot.storage.guild_file import (
    GUILD_HEADER,
    GuildFile,
    parse_guild_text,
    to_yaml,
    with_entry,
    with_hidden,
    with_trained,
)


def unique_id(title: str, taken: set[str]) -> str:
    """`slugify(title)`, with -2, -3, ... appended while the id is taken."""
    base = slugify(title)
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        suffix = f"-{number}"
        candidate = base[: 64 - len(suffix)].rstrip("-") + suffix
    return candidate


def _own(content: GuildFile, entry_id: str) -> Entry | None:
    return next((entry for entry in content.entries if entry.id == entry_id), None)


def _not_found(entry_id: str) -> ChangeRefused:
    return ChangeRefused([f"no entry with id {entry_id!r} (pick one from the suggestions)"])


def _touched(entry: Entry, actor: Actor, now: datetime, **update: object) -> Entry:
    steward = entry.stewardship or Stewardship()
    stewardship = steward.model_copy(update={"updated_by": str(actor), "updated_at": now})
    return entry.model_copy(update={**update, "stewardship": stewardship})


def editable_entry(content: GuildFile, base: KnowledgeBase, entry_id: str) -> Entry:
    """The server's own entry with this id, or why it cannot be edited (`ChangeRefused`). `edit_entry_op`
    applies this rule; a form asks it before opening, so the rule is written once."""
    previous = _own(content, entry_id)
    if previous is None and entry_id in base.entries:
        raise ChangeRefused([f"{entry_id!r} is a curated entry: it is read-only from Discord. Hide it here "
                             "with /faq hide and add your own version, or propose a change to knowledge/."])
    if previous is None:
        raise _not_found(entry_id)
    return previous


def _check_revision(previous: Entry, expected_revision: str | None) -> None:
    if expected_revision is not None and revision_of(previous) != expected_revision:
        raise Conflict(f"{previous.title!r} was changed by someone else since you opened it; nothing was saved.",
                       current=previous)


# --- entries ------------------------------------------------------------------------------------------


def add_entry_op(entry: Entry, actor: Actor) -> Operation:
    """Add a new entry of the server's. Its id is a wish: while taken, -2, -3, ... is appended."""

    def apply(content: GuildFile, base: KnowledgeBase, now: datetime) -> tuple[GuildFile, Change]:
        entry_id = unique_id(entry.id, set(base.entries) | {e.id for e in content.entries})
        added = entry.model_copy(update={"id": entry_id, "retired": False,
                                         "stewardship": Stewardship(created_by=str(actor), created_at=now)})
        return with_entry(content, added), Change("add", entry_id, added, str(actor))

    return apply


def edit_entry_op(entry_id: str, entry: Entry, actor: Actor, expected_revision: str | None) -> Operation:
    """Replace one of the server's entries with `entry` (same kind), unless someone saved it since the
    moderator opened it: `expected_revision` is `revision_of` the entry as it was then (None: don't check)."""

    def apply(content: GuildFile, base: KnowledgeBase, now: datetime) -> tuple[GuildFile, Change]:
        previous = editable_entry(content, base, entry_id)
        _check_revision(previous, expected_revision)
        if entry.kind != previous.kind:
            raise ChangeRefused([f"{entry_id!r} is a {previous.kind}; it cannot become a {entry.kind}"])
        edited = _touched(entry.model_copy(update={"stewardship": previous.stewardship}), actor, now,
                          id=entry_id, retired=previous.retired)
        return with_entry(content, edited), Change("edit", entry_id, edited, str(actor))

    return apply


def hide_entry(entry_id: str) -> Operation:
    def apply(content: GuildFile, base: KnowledgeBase, now: datetime) -> tuple[GuildFile, Change]:
        if _own(content, entry_id) is not None:
            raise ChangeRefused([f"{entry_id!r} is this server's own entry; retire it with /faq remove"])
        if entry_id not in base.entries:
            raise _not_found(entry_id)
        if entry_id in content.hidden:
            raise ChangeRefused([f"{entry_id!r} is already hidden in this server"])
        return with_hidden(content, [*content.hidden, entry_id]), Change("hide", entry_id)

    return apply


def unhide_entry(entry_id: str) -> Operation:
    def apply(content: GuildFile, base: KnowledgeBase, now: datetime) -> tuple[GuildFile, Change]:
        if entry_id not in content.hidden and entry_id not in base.entries:
            raise _not_found(entry_id)
        if entry_id not in content.hidden:
            raise ChangeRefused([f"{entry_id!r} is not hidden in this server"])
        return with_hidden(content, set(content.hidden) - {entry_id}), Change("unhide", entry_id)

    return apply


def _set_retired(entry_id: str, actor: Actor, retired: bool, otherwise: Operation) -> Operation:
    """Retire or restore one of the server's entries; for any other id run `otherwise` (hide / unhide)."""
    action, refusal = ("retire", "is already retired; /faq restore brings it back") if retired else \
        ("restore", "is not retired")

    def apply(content: GuildFile, base: KnowledgeBase, now: datetime) -> tuple[GuildFile, Change]:
        entry = _own(content, entry_id)
        if entry is None:
            return otherwise(content, base, now)
        if entry.retired == retired:
            raise ChangeRefused([f"{entry_id!r} {refusal}"])
        changed = _touched(entry, actor, now, retired=retired)
        return with_entry(content, changed), Change(action, entry_id, changed, str(actor))

    return apply


def remove_entry(entry_id: str, actor: Actor) -> Operation:
    """Retire one of the guild's entries, or hide a curated one in this guild."""
    return _set_retired(entry_id, actor, True, hide_entry(entry_id))


def restore_entry(entry_id: str, actor: Actor) -> Operation:
    """Bring back a retired entry of the guild's, or show a curated entry the guild had hidden."""
    return _set_retired(entry_id, actor, False, unhide_entry(entry_id))


# --- taught phrasings -------------------------------------------------------------------------------------


def _trainable(content: GuildFile, base: KnowledgeBase, entry_id: str) -> Entry:
    own = _own(content, entry_id)
    if own is not None and own.retired:
        raise ChangeRefused([f"{entry_id!r} is retired; /faq restore brings it back first"])
    if own is not None:
        return own
    if entry_id in content.hidden:
        raise ChangeRefused([f"{entry_id!r} is hidden in this server; /faq unhide shows it again first"])
    if entry_id not in base.entries:
        raise _not_found(entry_id)
    return base.entries[entry_id]


def train(entry_id: str, phrasings: Iterable[str], actor: Actor) -> Operation:
    """Teach extra phrasings of any entry here (curated or the server's). Ones it already has are skipped;
    one that reads the same as another entry's is refused (by `run_checked`, like any collision)."""
    texts = [text.strip() for text in phrasings if text.strip()]

    def apply(content: GuildFile, base: KnowledgeBase, now: datetime) -> tuple[GuildFile, Change]:
        entry = _trainable(content, base, entry_id)
        if not texts:
            raise ChangeRefused(["give at least one phrasing"])
        known = {normalize(text) for text in (*entry.phrasings, *content.trained.get(entry_id, ()))}
        new = []
        for text in texts:
            if normalize(text) not in known:
                known.add(normalize(text))
                new.append(text)
        if not new:
            raise ChangeRefused([f"{entry_id!r} already matches {'this' if len(texts) == 1 else 'these'} "
                                 "as it is; nothing to teach"])
        trained = {**content.trained, entry_id: [*content.trained.get(entry_id, ()), *new]}
        return with_trained(content, trained), Change("train", entry_id, None, str(actor), tuple(new))

    return apply


def untrain(entry_id: str, phrasings: Iterable[str], actor: Actor) -> Operation:
    """Forget taught phrasings of an entry (compared as normalised text)."""
    keys = {normalize(text) for text in phrasings}

    def apply(content: GuildFile, base: KnowledgeBase, now: datetime) -> tuple[GuildFile, Change]:
        taught = content.trained.get(entry_id, [])
        kept = [text for text in taught if normalize(text) not in keys]
        forgotten = tuple(text for text in taught if normalize(text) in keys)
        if not forgotten:
            raise ChangeRefused([f"{entry_id!r} has no taught phrasing like that in this server"])
        trained = {**content.trained, entry_id: kept}
        return with_trained(content, trained), Change("untrain", entry_id, None, str(actor), forgotten)

    return apply


# --- the checks before every save -------------------------------------------------------------------------

_FIRST_AT = re.compile(r" \(first at [^)]*\)")


def _problem_key(problem: Problem) -> str:
    return _FIRST_AT.sub("", problem.message)


def _visible(base: KnowledgeBase, hidden: set[str]) -> KnowledgeBase:
    return KnowledgeBase(
        entries=MappingProxyType({k: v for k, v in base.entries.items() if k not in hidden}),
        sources=base.sources,
        origins=MappingProxyType({k: v for k, v in base.origins.items() if k not in hidden}),
    )


def _trained_problems(parsed: ParsedFile, visible: KnowledgeBase) -> list[Problem]:
    """Taught phrasings that read the same as another entry's. Those of hidden or unknown entries
    answer nothing here, so like a hidden entry's own questions they claim nothing."""
    content = parsed.content
    asked: dict[str, str] = {}
    for entry in (*visible.entries.values(), *content.entries):
        for text in (*entry.questions, *entry.aliases):
            asked.setdefault(normalize(text), entry.id)
    live = set(visible.entries) | {entry.id for entry in content.entries}
    taught: dict[str, str] = {}
    problems = []
    for entry_id, texts in content.trained.items():
        for j, text in enumerate(texts if entry_id in live else ()):
            key = normalize(text)
            first = taught.setdefault(key, entry_id)
            if not key:
                why = f"phrasing {text!r} taught for {entry_id!r} is only words the matcher ignores"
            elif asked.get(key, entry_id) != entry_id:
                why = f"phrasing {text!r} taught for {entry_id!r} reads the same as a question of {asked[key]!r}"
            elif first != entry_id:
                why = f"phrasing {text!r} is taught for both {first!r} and {entry_id!r}"
            else:
                continue
            problems.append(Problem(parsed.name, parsed.origin("trained", entry_id, j).line,
                                    f"{why}; a phrasing leads to one entry only"))
    return problems


def cross_problems(parsed: ParsedFile, base: KnowledgeBase) -> list[Problem]:
    """Collisions with curated ids and phrasings, unknown related or source ids, clashing taught phrasings.

    Hidden curated entries do not own their phrasings here, so a guild can hide one and write its
    own version; their ids stay taken.
    """
    content = parsed.content
    hidden = set(content.hidden)
    visible = _visible(base, hidden)
    taken = [Problem(parsed.name, parsed.origin(section, i, "id").line, f"id {entry.id!r} is taken by a "
                     "curated entry (hidden here, but ids stay unique)")
             for section in ("myths", "exercises") for i, entry in enumerate(getattr(content, section))
             if entry.id in hidden and entry.id in base.entries]
    _, found = assemble([parsed], base=visible)
    return taken + found + _trained_problems(parsed, visible)


def checked(name: str, updated: GuildFile, current: GuildFile, base: KnowledgeBase) -> tuple[GuildState, str]:
    """The state `updated` loads as and its YAML text, or `ChangeRefused` listing what it would break.

    Problems that were there before the change (a curated entry added since) do not block it."""
    text = to_yaml(updated, GUILD_HEADER)
    parsed = parse_guild_text(text, name)
    if parsed.problems:
        raise ChangeRefused([problem.message for problem in parsed.problems])
    if parsed.content != updated:
        raise SaveFailed("the change would not read back as written; nothing was changed")
    problems = cross_problems(parsed, base)
    if problems:
        before = {_problem_key(p) for p in cross_problems(ParsedFile(name, current, None, ()), base)}
        fresh = [p.message for p in problems if _problem_key(p) not in before]
        if fresh:
            raise ChangeRefused(fresh)
    return GuildState.of(parsed.content, name), text


def run_checked(name: str, operation: Operation, current: GuildFile, base: KnowledgeBase,
                now: datetime) -> tuple[GuildState, Change, str]:
    """Apply `operation` to `current` and check the result: (new state, change, YAML text)."""
    updated, change = operation(current, base, now)
    state, text = checked(name, updated, current, base)
    return state, change, text
