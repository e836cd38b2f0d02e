"""`/faq`: moderators keep this server's FAQ from inside Discord.

The work is done by plain functions over the bot's engine and its two stores, `FaqStore` and
`RecordStore` (the first half of this module, testable without Discord); the cog's callbacks only read
the interaction, call one of them and send what it returns. Every change is an operation the `FaqStore`
applies (validated, atomic, per guild) and goes into the audit log.

Who may use it: Discord hides the group from members without Manage Messages
(`default_permissions`), but server admins can change that, so every command, button, form and
autocomplete checks again here: Manage Messages server-wide (a channel overwrite is not enough: every
change applies to the whole server), or a role in `MYTHBOT_MODERATOR_ROLE_IDS`.
"""

import asyncio
import io
import json
import logging
import re
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

import discord
from discord import app_commands
from discord.ext import commands

from bot.engine.engine import Engine
from bot.engine.gaps import Asked, Gap, group_gaps
from bot.engine.normalize import normalize
from bot.engine.render import EntryView, entry_view
from bot.engine.schema import Entry, MythEntry
from bot.engine.yamlsafe import Problem
from bot.faq.drafts import FORM_FIELDS, Draft, DraftError, draft_of, entry_of, overflowing_fields
from bot.settings import Settings
from bot.storage.base import Actor, Change, ChangeRefused, Conflict, FaqStore, RecordStore, StorageError, revision_of
from bot.storage.operations import (
    add_entry_op,
    edit_entry_op,
    hide_entry,
    remove_entry,
    restore_entry,
    unhide_entry,
)
from bot.workers import Workers

log = logging.getLogger(__name__)

PREFIX = "mythbot:faq"
PAGE_SIZE = 10
GAP_LIMIT = 15
GAP_QUESTIONS = 1000  # the most recent unanswered questions a report reads
GAP_RECHECK = 300  # the most asked different ones among them it re-checks and groups
MESSAGE_MAX = 1900
EMBED_TEXT_MAX = 4000
REFUSAL = "Only moderators can manage the FAQ: it takes the Manage Messages permission or a moderator role."
NO_MENTIONS = discord.AllowedMentions.none()

Listing = Literal["all", "server", "curated", "retired", "hidden"]
Purpose = Literal["edit", "remove", "restore", "hide", "unhide", "show"]


class FaqBot(Protocol):
    """What the moderation code needs from the bot (`MythBot` provides it)."""

    engine: Engine
    faq: FaqStore
    records: RecordStore
    settings: Settings
    workers: Workers

    async def reload_knowledge(self) -> list[Problem]: ...


# --- permissions -------------------------------------------------------------------------------------

def may_moderate(manage_messages: bool, role_ids: Iterable[int], moderator_role_ids: Iterable[int]) -> bool:
    """Manage Messages, or any role listed in the settings."""
    return manage_messages or not set(role_ids).isdisjoint(moderator_role_ids)


def interaction_may_moderate(interaction: discord.Interaction, moderator_role_ids: Iterable[int]) -> bool:
    """The check for one interaction: guild only, with the member's server-wide permissions.

    Not `interaction.permissions`: those are resolved in the channel, so Manage Messages granted in one
    channel only would unlock changes that apply to the whole server."""
    if interaction.guild_id is None or not isinstance(interaction.user, discord.Member):
        return False
    permissions = interaction.user.guild_permissions  # roles and ownership; no channel overwrites
    role_ids = (role.id for role in interaction.user.roles)
    return may_moderate(permissions.manage_messages or permissions.administrator, role_ids, moderator_role_ids)


async def refuse_unless_moderator(interaction: discord.Interaction) -> bool:
    """True for moderators; everyone else gets a short private refusal."""
    settings = getattr(interaction.client, "settings", None)
    if interaction_may_moderate(interaction, getattr(settings, "moderator_role_ids", ())):
        return True
    if not interaction.response.is_done():
        await interaction.response.send_message(REFUSAL, ephemeral=True, allowed_mentions=NO_MENTIONS)
    return False


def actor_of(interaction: discord.Interaction) -> Actor:
    return Actor(interaction.user.id, str(interaction.user))


# --- what the commands do (no Discord types below, up to the views) ----------------------------------

@dataclass(frozen=True)
class Outcome:
    """What to tell the moderator: text, and optionally an entry to show or a file to attach. After an edit
    that conflicted, `revision` is that of the version now stored, for a resubmitted form to carry."""

    text: str
    ok: bool = True
    entry_id: str | None = None
    file: tuple[str, bytes] | None = None
    revision: str | None = None


def clip(text: str, limit: int = MESSAGE_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def refused(error: StorageError) -> Outcome:
    if isinstance(error, ChangeRefused) and len(error.problems) > 1:
        lines = "\n".join(f"- {problem}" for problem in error.problems)
        return Outcome(clip(f"Nothing was changed. Please fix:\n{lines}"), ok=False)
    return Outcome(clip(f"Nothing was changed: {error}"), ok=False)


def record_change(bot: FaqBot, guild_id: int, actor: Actor, change: Change) -> None:
    """Audit log: who, when, what; the entry as saved, so any version can be recovered.

    Written in the background by the records worker: the change is already saved, so a locked or
    broken database costs the audit line (logged as a warning), never the moderator's reply."""
    detail = json.dumps(change.entry.model_dump(mode="json", exclude_defaults=True)) if change.entry else None
    bot.workers.record_soon(f"the audit record of {change.action} {change.entry_id!r} in guild {guild_id}",
                            bot.records.audit, guild_id, actor.id, actor.name, change.action,
                            entry_id=change.entry_id, detail=detail)


DONE = {
    "add": "Added `{id}`. It answers in this server now.",
    "edit": "Saved `{id}`.",
    "retire": "Retired `{id}`: it no longer answers here. `/faq restore` brings it back.",
    "restore": "Restored `{id}`: it answers here again.",
    "hide": "Hid the curated entry `{id}` in this server. `/faq unhide` shows it again.",
    "unhide": "The curated entry `{id}` answers in this server again.",
}


CONFLICT = ("{error} Their version is below. **Fix and resubmit** reopens the form with what you typed; "
            "saving it then replaces their version.")


async def _change(bot: FaqBot, guild_id: int, actor: Actor, making: Awaitable[Change]) -> Outcome:
    try:
        change = await making
    except Conflict as error:
        await bot.faq.refresh(guild_id)  # show their version, even if another process saved it
        current = revision_of(error.current) if error.current is not None else None
        return Outcome(clip(CONFLICT.format(error=error)), ok=False, entry_id=error.current and error.current.id,
                       revision=current)
    except StorageError as error:
        return refused(error)
    record_change(bot, guild_id, actor, change)
    text = DONE[change.action].format(id=change.entry_id)
    if change.action == "edit" and change.entry is not None and change.entry.retired:
        text += " It is retired, so it stays silent until `/faq restore`."
    shown = change.entry_id if change.action in ("add", "edit", "restore") else None
    return Outcome(text, entry_id=shown)


async def submit_draft(bot: FaqBot, guild_id: int, actor: Actor, draft: Draft, *, entry_id: str | None = None,
                       revision: str | None = None) -> Outcome:
    """Save what the form held: a new entry, or an edit of `entry_id` as it was at `revision` (when the form
    opened). The form builds the entry; the store checks and saves it."""
    previous = bot.faq.state(guild_id).entries.get(entry_id) if entry_id else None
    try:
        entry = entry_of(draft, previous=previous if isinstance(previous, MythEntry) else None,
                         known_sources=bot.engine.kb.sources)
    except DraftError as error:
        return refused(ChangeRefused([f"{label}: {message}" for label, message in error.problems]))
    operation = edit_entry_op(entry_id, entry, actor, revision) if entry_id else add_entry_op(entry, actor)
    return await _change(bot, guild_id, actor, bot.faq.apply(guild_id, operation))


async def retire(bot: FaqBot, guild_id: int, actor: Actor, entry_id: str) -> Outcome:
    return await _change(bot, guild_id, actor, bot.faq.apply(guild_id, remove_entry(entry_id, actor)))


async def restore(bot: FaqBot, guild_id: int, actor: Actor, entry_id: str) -> Outcome:
    return await _change(bot, guild_id, actor, bot.faq.apply(guild_id, restore_entry(entry_id, actor)))


async def hide(bot: FaqBot, guild_id: int, actor: Actor, entry_id: str) -> Outcome:
    return await _change(bot, guild_id, actor, bot.faq.apply(guild_id, hide_entry(entry_id)))


async def unhide(bot: FaqBot, guild_id: int, actor: Actor, entry_id: str) -> Outcome:
    return await _change(bot, guild_id, actor, bot.faq.apply(guild_id, unhide_entry(entry_id)))


def edit_form(bot: FaqBot, guild_id: int, entry_id: str) -> tuple[Draft, str] | Outcome:
    """The form prefilled for `/faq edit` and the revision it opens, or why it cannot be edited from Discord."""
    own = bot.faq.state(guild_id).entries.get(entry_id)
    if own is None and entry_id in bot.engine.kb.entries:
        return Outcome(f"`{entry_id}` is a curated entry: read-only from Discord. `/faq hide` it here and "
                       "`/faq add` your own version, or propose the change for knowledge/.", ok=False)
    if own is None:
        return Outcome(f"No entry with id `{entry_id}` in this server. Pick one from the suggestions.", ok=False)
    if own.kind != "myth":
        return Outcome(f"`{entry_id}` is an exercise; exercises are edited in the YAML file.", ok=False)
    draft = draft_of(own)
    too_long = overflowing_fields(draft)
    if too_long:
        return Outcome(f"`{entry_id}` was edited by hand and no longer fits the form ({', '.join(too_long)}); "
                       "edit it in the YAML file.", ok=False)
    return draft, revision_of(own)


@dataclass(frozen=True)
class RemovalPrompt:
    action: Literal["retire", "hide"]
    entry_id: str
    text: str


def removal_prompt(bot: FaqBot, guild_id: int, entry_id: str) -> RemovalPrompt | Outcome:
    """What `/faq remove` asks before doing it: retire our own entry, or hide a curated one here."""
    state = bot.faq.state(guild_id)
    own = state.entries.get(entry_id)
    if own is not None:
        if own.retired:
            return Outcome(f"`{entry_id}` is already retired. `/faq restore` brings it back.", ok=False)
        return RemovalPrompt("retire", entry_id, f"Retire **{discord.utils.escape_markdown(own.title)}** "
                             f"(`{entry_id}`)? It stops answering here; the text is kept and "
                             "`/faq restore` brings it back.")
    curated = bot.engine.kb.entries.get(entry_id)
    if curated is None:
        return Outcome(f"No entry with id `{entry_id}`. Pick one from the suggestions.", ok=False)
    if entry_id in state.hidden:
        return Outcome(f"`{entry_id}` is already hidden in this server.", ok=False)
    return RemovalPrompt("hide", entry_id, f"**{discord.utils.escape_markdown(curated.title)}** (`{entry_id}`) "
                         "is curated, so it cannot be removed from Discord. Hide it in this server? "
                         "`/faq unhide` shows it again.")


# Listing and autocomplete

@dataclass(frozen=True)
class Row:
    id: str
    title: str
    tags: tuple[str, ...]


def _kind_tag(entry: Entry) -> tuple[str, ...]:
    return () if entry.kind == "myth" else (entry.kind,)


def faq_rows(bot: FaqBot, guild_id: int, which: Listing = "all") -> list[Row]:
    state = bot.faq.state(guild_id)
    curated = bot.engine.kb.entries
    rows: list[Row] = []
    own = sorted(state.entries.values(), key=lambda e: e.title.casefold())
    for entry in own:
        if which in ("all", "server") or (which == "retired" and entry.retired):
            tags = ("server", *(("retired",) if entry.retired else ()), *_kind_tag(entry))
            rows.append(Row(entry.id, entry.title, tags))
    if which in ("all", "curated", "hidden"):
        for entry in sorted(curated.values(), key=lambda e: e.title.casefold()):
            hidden = entry.id in state.hidden
            if entry.retired or (which == "hidden" and not hidden):
                continue
            tags = ("curated", *(("hidden here",) if hidden else ()), *_kind_tag(entry))
            rows.append(Row(entry.id, entry.title, tags))
    if which == "hidden":  # hidden ids a curated reload has since removed
        rows += [Row(i, "(no longer in the curated knowledge)", ("hidden here",))
                 for i in sorted(state.hidden) if i not in curated]
    return rows


@dataclass(frozen=True)
class Page:
    which: str
    number: int  # 0-based
    count: int
    total: int
    rows: tuple[Row, ...]


def faq_page(bot: FaqBot, guild_id: int, which: Listing = "all", number: int = 0) -> Page:
    rows = faq_rows(bot, guild_id, which)
    count = max(1, -(-len(rows) // PAGE_SIZE))
    number = min(max(number, 0), count - 1)
    return Page(which, number, count, len(rows), tuple(rows[number * PAGE_SIZE:(number + 1) * PAGE_SIZE]))


def candidates(bot: FaqBot, guild_id: int, purpose: Purpose) -> list[tuple[str, str]]:
    """(id, title) of the entries a command can act on, for autocomplete."""
    state = bot.faq.state(guild_id)
    own = list(state.entries.values())
    curated = [e for e in bot.engine.kb.entries.values() if not e.retired and e.id not in state.entries]
    chosen: list[Entry] = {
        "edit": [e for e in own if e.kind == "myth"],
        "remove": [e for e in own if not e.retired] + [e for e in curated if e.id not in state.hidden],
        "restore": [e for e in own if e.retired] + [e for e in curated if e.id in state.hidden],
        "hide": [e for e in curated if e.id not in state.hidden],
        "unhide": [e for e in curated if e.id in state.hidden],
        "show": own + curated,
    }[purpose]
    return [(e.id, e.title) for e in chosen]


def rank_choices(options: Iterable[tuple[str, str]], typed: str, limit: int = 25) -> list[tuple[str, str]]:
    """Best (label, id) pairs for what was typed: id or title prefix, then substring, then the rest."""
    query = " ".join(typed.casefold().split())
    scored = []
    for entry_id, title in options:
        folded = title.casefold()
        if not query:
            rank = 3
        elif entry_id.startswith(query.replace(" ", "-")) or folded.startswith(query):
            rank = 0
        elif query in folded or query.replace(" ", "-") in entry_id:
            rank = 1
        elif all(word in folded or word in entry_id for word in query.split()):
            rank = 2
        else:
            continue
        scored.append((rank, folded, entry_id, title))
    scored.sort()
    return [(clip(f"{title} ({entry_id})", 100), entry_id) for _, _, entry_id, title in scored[:limit]]


# Showing one entry

def entry_status(bot: FaqBot, guild_id: int, entry_id: str) -> str | None:
    """A line saying whose entry it is, whether it answers here, and who changed it when."""
    state = bot.faq.state(guild_id)
    own = state.entries.get(entry_id)
    if own is None:
        if entry_id not in bot.engine.kb.entries:
            return None
        return "Curated (read-only from Discord)" + (" · hidden in this server" if entry_id in state.hidden else "")
    parts = ["This server's entry" + (" · retired" if own.retired else "")]
    steward = own.stewardship
    if steward and steward.created_by:
        parts.append(f"added by {steward.created_by}" + (f" on {steward.created_at:%Y-%m-%d}" if steward.created_at
                                                          else ""))
    if steward and steward.updated_by:
        parts.append(f"last changed by {steward.updated_by}" + (f" on {steward.updated_at:%Y-%m-%d}"
                                                                if steward.updated_at else ""))
    return " · ".join(parts)


def moderator_view(bot: FaqBot, guild_id: int, entry_id: str) -> EntryView | None:
    """The card of an entry as moderators see it: this server's own, or curated even when hidden here."""
    engine = bot.engine
    own = bot.faq.state(guild_id).entries.get(entry_id)
    if own is not None:
        return engine.view(entry_id, bot.faq.scope_for(guild_id), retired=True)
    curated = engine.kb.entries.get(entry_id)
    return entry_view(engine.kb, curated) if curated is not None else None


# Gaps, reload, export

_LINK_SCHEME = re.compile(r"\bhttp(s?)(?=:/)", re.IGNORECASE)
_BRACKET = re.compile(r"\\?[\[\]]")
_INVITE_HOST = re.compile(r"\b(discord(?:app)?)\.(gg|com|me|io|li)\b", re.IGNORECASE)


def members_text(text: str, limit: int) -> str:
    """A member's words as moderators see them in a report: links broken so they are not clickable
    (`hxxps://`, `discord[.]gg`: nobody can plant a link or an invite card there) and markdown shown
    as typed."""
    text = discord.utils.escape_markdown(clip(text, limit))
    text = _BRACKET.sub(lambda m: "\\" + m.group(0)[-1], text)  # every one: escape_markdown does the first only
    return _INVITE_HOST.sub(r"\1[.]\2", _LINK_SCHEME.sub(lambda m: "hxxp" + m.group(1).lower(), text))


def questions_to_recheck(asked: list[Asked], cap: int = GAP_RECHECK) -> tuple[list[Asked], int]:
    """The unanswered questions worth re-checking: those of the `cap` most asked different questions
    (the same once normalised; ties go to the most recent), and how many different ones there were.
    Members choose what gets recorded, so the work of a report is capped here, not by them."""
    keys = [normalize(item.question) for item in asked]
    counts = Counter(key for key in keys if key)
    kept = {key for key, _ in counts.most_common(cap)}
    return [item for item, key in zip(asked, keys, strict=True) if key in kept], len(counts)


def open_gaps(engine: Engine, scope, asked: list[Asked]) -> tuple[list[Gap], int, int]:
    """Groups of the questions that still get no answer from the current knowledge, with how many
    different questions were re-checked out of how many (runs in the report pool)."""
    recheck, different = questions_to_recheck(asked)
    still_open: dict[str, bool] = {}
    for item in recheck:
        if item.question not in still_open:
            still_open[item.question] = engine.ask(item.question, scope=scope).result.status != "answer"
    gaps = group_gaps([item for item in recheck if still_open[item.question]], limit=GAP_LIMIT)
    return gaps, min(different, GAP_RECHECK), different


async def gaps_report(bot: FaqBot, guild_id: int, days: int = 30) -> Outcome:
    """The questions nobody got an answer to (and still would not), grouped, most asked first.

    All of it runs in the report pool (one thread, apart from members' answers), with capped work."""
    since = time.time() - days * 86400
    scope, engine = bot.faq.scope_for(guild_id), bot.engine
    try:
        asked = await bot.records.unanswered(guild_id, since, GAP_QUESTIONS)
    except StorageError as error:
        return Outcome(f"Could not read the unanswered questions: {error}", ok=False)
    gaps, considered, different = await bot.workers.report(open_gaps, engine, scope, asked)
    if not gaps:
        return Outcome(f"No open questions in the last {days} days: everything asked here has an answer now.")
    lines = []
    for gap in gaps:
        line = f"**{gap.count}×** {members_text(gap.example, 150)}"
        if gap.wordings:
            line += "\n  also: " + " · ".join(members_text(w, 80) for w in gap.wordings)
        if gap.closest_entry:
            line += f"\n  closest entry: `{gap.closest_entry}`"
        lines.append(line)
    header = (f"Questions asked here in the last {days} days that got no answer (and still would not), "
              "most asked first. Each is a candidate for `/faq add`, or a new phrasing for an entry.")
    if considered < different:
        header += f" Only the {considered} most asked of {different} different questions were checked."
    return Outcome(clip(header + "\n\n" + "\n".join(lines), EMBED_TEXT_MAX))


def _problem_lines(problems: list[Problem], limit: int = 12) -> str:
    lines = [f"- `{p.file}:{p.line}` {p.message}" for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"- … and {len(problems) - limit} more (see the bot's log or run `mythbot validate`)")
    return "\n".join(lines)


async def reload_knowledge(bot: FaqBot, guild_id: int, actor: Actor) -> Outcome:
    """Re-read the curated YAML (kept only if valid) and this server's file."""
    problems = await bot.reload_knowledge()
    guild_problems = await bot.faq.reload(guild_id)
    if problems:
        text = ("The curated knowledge has problems, so the bot keeps answering with what it had loaded. "
                f"Fix these and run `/faq reload` again:\n{_problem_lines(problems)}")
    else:
        text = f"Reloaded the curated knowledge: {len(bot.engine.kb.entries)} entries."
    if guild_problems:
        text += ("\n\nThis server's own file has problems; it answers from the newest valid backup until the "
                 f"next change:\n{_problem_lines(guild_problems)}")
    bot.workers.record_soon(f"the audit record of a reload in guild {guild_id}", bot.records.audit, guild_id,
                            actor.id, actor.name, "reload", detail=f"{len(problems)} problem(s)")
    return Outcome(clip(text), ok=not problems)


async def export_entries(bot: FaqBot, guild_id: int) -> Outcome:
    text, count = await bot.faq.export_yaml(guild_id)
    if count == 0:
        return Outcome("This server has no entries of its own to export yet.", ok=False)
    return Outcome(f"{count} entr{'y' if count == 1 else 'ies'} from this server, in the curated format. Review "
                   "them, then propose them for `knowledge/` in a pull request.",
                   file=(f"faq-{guild_id}.yaml", text.encode()))


# --- Discord: embeds, forms and buttons -----------------------------------------------------------

def entry_embed(bot: FaqBot, guild_id: int, entry_id: str) -> discord.Embed | None:
    view = moderator_view(bot, guild_id, entry_id)
    if view is None:
        return None
    embed = render_entry(view)
    status = entry_status(bot, guild_id, entry_id)
    if status:
        embed.set_footer(text=clip(f"{entry_id} · {status}", 2048))
    return embed


def render_entry(view: EntryView) -> discord.Embed:
    embed = discord.Embed(title=clip(view.title, 256), description=clip(view.body, 4096))
    if view.verdict_label:
        embed.add_field(name="Verdict", value=view.verdict_label)
    embed.add_field(name="Evidence", value=view.evidence_label)
    if view.sources:
        lines = "\n".join(f"- {s.citation}" + (f" {s.link}" if s.link and s.link != s.citation else "")
                          for s in view.sources)
        embed.add_field(name="Sources", value=clip(lines, 1024), inline=False)
    return embed


def page_embed(page: Page) -> discord.Embed:
    lines = [f"`{row.id}` {discord.utils.escape_markdown(clip(row.title, 80))} · {', '.join(row.tags)}"
             for row in page.rows]
    embed = discord.Embed(title=f"FAQ entries ({page.which})",
                          description="\n".join(lines) or "Nothing to list.")
    embed.set_footer(text=f"Page {page.number + 1} of {page.count} · {page.total} entries")
    return embed


async def reply(interaction: discord.Interaction, outcome: Outcome, *, view: discord.ui.View | None = None,
                edit: bool = False) -> None:
    """Send an outcome privately: as the response, a follow-up after a defer, or by editing the message."""
    bot: FaqBot = interaction.client  # type: ignore[assignment]
    kwargs: dict = {"content": outcome.text, "allowed_mentions": NO_MENTIONS}
    embed = entry_embed(bot, interaction.guild_id, outcome.entry_id) if outcome.entry_id else None
    if edit:
        await interaction.response.edit_message(**kwargs, embed=embed, view=view)
        return
    if embed is not None:
        kwargs["embed"] = embed
    if view is not None:
        kwargs["view"] = view
    if outcome.file is not None:
        kwargs["file"] = discord.File(io.BytesIO(outcome.file[1]), filename=outcome.file[0])
    if interaction.response.is_done():
        await interaction.followup.send(**kwargs, ephemeral=True)
    else:
        await interaction.response.send_message(**kwargs, ephemeral=True)


# A form's custom_id says what it edits and, for an edit, the revision it opened (so a submit no live form
# owns, after a restart or the form's timeout, is saved from what Discord sends back with the same conflict
# check); the nonce keeps two open forms apart. At most 14 + 4 + 1 + 16 + 1 + 64 = 100 characters, Discord's
# limit. `form:<nonce>:<entry>` is how edit forms opened before revisions were kept still arrive.
FORM_ID = re.compile(rf"{PREFIX}:(?:form:[0-9a-f]{{8}}(?::(?P<old_entry>[a-z0-9-]{{1,64}}))?"
                     rf"|e:[0-9a-f]{{4}}:(?P<revision>[0-9a-f]{{16}}):(?P<entry>[a-z0-9-]{{1,64}}))")


def form_id(entry_id: str | None, revision: str | None = None) -> str:
    if entry_id is None:
        return f"{PREFIX}:form:{secrets.token_hex(4)}"
    return f"{PREFIX}:e:{secrets.token_hex(2)}:{revision}:{entry_id}"


def form_target(custom_id: str) -> tuple[str | None, str | None] | None:
    """(entry id, revision) a form's custom_id names: (None, None) for a new entry; None if not our form."""
    found = FORM_ID.fullmatch(custom_id)
    if found is None:
        return None
    return found["entry"] or found["old_entry"], found["revision"]


def submitted_values(components: list[dict]) -> dict[str, str]:
    """custom_id -> value of the text inputs in a modal submission (in action rows or labels)."""
    values: dict[str, str] = {}
    for component in components:
        children = component.get("components") or ([component["component"]] if component.get("component") else [])
        if children:
            values.update(submitted_values(children))
        elif isinstance(component.get("custom_id"), str) and isinstance(component.get("value"), str):
            values[component["custom_id"]] = component["value"]
    return values


async def save_form(interaction: discord.Interaction, draft: Draft, entry_id: str | None,
                    revision: str | None) -> None:
    await interaction.response.defer(ephemeral=True, thinking=True)
    outcome = await submit_draft(interaction.client, interaction.guild_id, actor_of(interaction), draft,
                                 entry_id=entry_id, revision=revision)
    retry = None if outcome.ok else FixAndResubmit(draft, entry_id, outcome.revision or revision)
    await reply(interaction, outcome, view=retry)


async def form_failed(interaction: discord.Interaction, error: Exception) -> None:
    log.error("the FAQ form failed in guild %s", interaction.guild_id, exc_info=error)
    await reply(interaction, Outcome("Something went wrong and nothing was saved; the details are in the "
                                     "bot's log.", ok=False))


async def save_unowned_form(interaction: discord.Interaction, entry_id: str | None, revision: str | None) -> None:
    """A form submitted after a restart or its timeout: the same checks and save as a live one."""
    if not await refuse_unless_moderator(interaction):
        return
    values = submitted_values((interaction.data or {}).get("components") or [])
    draft = Draft(**{field.key: values.get(field.key, "") for field in FORM_FIELDS})
    try:
        await save_form(interaction, draft, entry_id, revision)
    except Exception as error:  # like FaqForm.on_error: the moderator hears of it
        await form_failed(interaction, error)


class FaqForm(discord.ui.Modal):
    """The five-field form for `/faq add` and `/faq edit` (a Discord modal holds at most five inputs)."""

    def __init__(self, draft: Draft, entry_id: str | None = None, revision: str | None = None) -> None:
        super().__init__(title="Edit FAQ entry" if entry_id else "New FAQ entry", timeout=1800,
                         custom_id=form_id(entry_id, revision))
        self.entry_id, self.revision = entry_id, revision
        self.inputs: dict[str, discord.ui.TextInput] = {}
        for field in FORM_FIELDS:
            text_input = discord.ui.TextInput(
                label=field.label, custom_id=field.key,  # title, questions, answer, verdict, sources
                style=discord.TextStyle.paragraph if field.paragraph else discord.TextStyle.short,
                max_length=field.max_length, required=field.required, placeholder=field.placeholder[:100],
                default=getattr(draft, field.key) or None,
            )
            self.inputs[field.key] = text_input
            self.add_item(text_input)

    def draft(self) -> Draft:
        return Draft(**{key: text_input.value for key, text_input in self.inputs.items()})

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return await refuse_unless_moderator(interaction)

    async def on_submit(self, interaction: discord.Interaction, /) -> None:
        await save_form(interaction, self.draft(), self.entry_id, self.revision)

    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:
        await form_failed(interaction, error)


class FixAndResubmit(discord.ui.View):
    """After a refused form: reopen it with everything the moderator typed, so nothing is lost."""

    def __init__(self, draft: Draft, entry_id: str | None, revision: str | None) -> None:
        super().__init__(timeout=1800)
        self.draft, self.entry_id, self.revision = draft, entry_id, revision

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return await refuse_unless_moderator(interaction)

    # The text lives in this view only; after a restart the bot says the button expired (discord_app).
    @discord.ui.button(label="Fix and resubmit", style=discord.ButtonStyle.primary, custom_id=f"{PREFIX}:fix")
    async def reopen(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.send_modal(FaqForm(self.draft, self.entry_id, self.revision))


class ConfirmRemoval(discord.ui.DynamicItem[discord.ui.Button],
                     template=rf"{PREFIX}:remove:(?P<action>retire|hide):(?P<entry>[a-z0-9-]{{1,64}})"):
    """The confirm button of `/faq remove`; stateless, so it still works after a restart."""

    def __init__(self, action: str, entry_id: str) -> None:
        label = "Retire" if action == "retire" else "Hide in this server"
        super().__init__(discord.ui.Button(label=label, style=discord.ButtonStyle.danger,
                                           custom_id=f"{PREFIX}:remove:{action}:{entry_id}"))
        self.action, self.entry_id = action, entry_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match, /):
        return cls(match["action"], match["entry"])

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return await refuse_unless_moderator(interaction)

    async def callback(self, interaction: discord.Interaction) -> None:
        outcome = await retire(interaction.client, interaction.guild_id, actor_of(interaction), self.entry_id)
        await reply(interaction, outcome, edit=True)


class CancelButton(discord.ui.DynamicItem[discord.ui.Button], template=rf"{PREFIX}:cancel"):
    def __init__(self) -> None:
        super().__init__(discord.ui.Button(label="Cancel", style=discord.ButtonStyle.secondary,
                                           custom_id=f"{PREFIX}:cancel"))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match, /):
        return cls()

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return await refuse_unless_moderator(interaction)

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(content="Cancelled; nothing was changed.", embed=None, view=None)


class PageButton(discord.ui.DynamicItem[discord.ui.Button],
                 template=rf"{PREFIX}:list:(?P<which>all|server|curated|retired|hidden):(?P<page>\d{{1,5}}):"
                          r"(?P<direction>prev|next)"):
    """Previous/next on `/faq list`; the page to show is in the custom_id, so no state is kept."""

    def __init__(self, which: str, page: int, direction: str, *, disabled: bool = False) -> None:
        super().__init__(discord.ui.Button(label="◀ Previous" if direction == "prev" else "Next ▶",
                                           style=discord.ButtonStyle.secondary, disabled=disabled,
                                           custom_id=f"{PREFIX}:list:{which}:{page}:{direction}"))
        self.which, self.page = which, page

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match, /):
        return cls(match["which"], int(match["page"]), match["direction"])

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return await refuse_unless_moderator(interaction)

    async def callback(self, interaction: discord.Interaction) -> None:
        page = faq_page(interaction.client, interaction.guild_id, self.which, self.page)  # type: ignore[arg-type]
        await interaction.response.edit_message(embed=page_embed(page), view=page_view(page))


def page_view(page: Page) -> discord.ui.View | None:
    if page.count <= 1:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(PageButton(page.which, max(page.number - 1, 0), "prev", disabled=page.number == 0))
    view.add_item(PageButton(page.which, min(page.number + 1, page.count - 1), "next",
                             disabled=page.number >= page.count - 1))
    return view


def confirm_view(prompt: RemovalPrompt) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ConfirmRemoval(prompt.action, prompt.entry_id))
    view.add_item(CancelButton())
    return view


DYNAMIC_ITEMS = (ConfirmRemoval, CancelButton, PageButton)


# --- the cog ---------------------------------------------------------------------------------------

def _entry_option(purpose: Purpose):
    async def complete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        bot: FaqBot = interaction.client  # type: ignore[assignment]
        if not interaction_may_moderate(interaction, bot.settings.moderator_role_ids):
            return []
        options = candidates(bot, interaction.guild_id, purpose)
        return [app_commands.Choice(name=name, value=value) for name, value in rank_choices(options, current)]

    return complete


@app_commands.guild_only()
@app_commands.default_permissions(manage_messages=True)
class Moderation(commands.GroupCog, group_name="faq", group_description="Manage this server's FAQ (moderators)"):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        self._gap_reports: dict[tuple[int, int], asyncio.Task[Outcome]] = {}

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return await refuse_unless_moderator(interaction)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Save our forms that no live form owns, instead of letting discord.py drop them silently."""
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        target = form_target((interaction.data or {}).get("custom_id", ""))
        if target is not None and not self.bot.live_ui_owns(interaction):
            await save_unowned_form(interaction, *target)

    async def cog_app_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError):
        if isinstance(error, app_commands.CheckFailure):
            await refuse_unless_moderator(interaction)  # answers if nothing has yet
            return
        log.error("/faq failed in guild %s", interaction.guild_id, exc_info=error)
        outcome = Outcome("Something went wrong; nothing more was changed. The details are in the bot's log.", ok=False)
        await reply(interaction, outcome)

    @app_commands.command(name="add", description="Write a new FAQ entry for this server")
    async def add(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(FaqForm(Draft()))

    @app_commands.command(name="edit", description="Edit one of this server's entries")
    @app_commands.rename(entry_id="id")
    @app_commands.describe(entry_id="The entry to edit")
    @app_commands.autocomplete(entry_id=_entry_option("edit"))
    async def edit(self, interaction: discord.Interaction, entry_id: str) -> None:
        form = edit_form(self.bot, interaction.guild_id, entry_id)
        if isinstance(form, Outcome):
            await reply(interaction, form)
        else:
            draft, revision = form
            await interaction.response.send_modal(FaqForm(draft, entry_id, revision))

    @app_commands.command(name="remove", description="Retire one of this server's entries, or hide a curated one")
    @app_commands.rename(entry_id="id")
    @app_commands.describe(entry_id="The entry to remove")
    @app_commands.autocomplete(entry_id=_entry_option("remove"))
    async def remove(self, interaction: discord.Interaction, entry_id: str) -> None:
        prompt = removal_prompt(self.bot, interaction.guild_id, entry_id)
        if isinstance(prompt, Outcome):
            await reply(interaction, prompt)
        else:
            await reply(interaction, Outcome(prompt.text), view=confirm_view(prompt))

    @app_commands.command(name="restore", description="Bring back a retired entry, or show a hidden curated one")
    @app_commands.rename(entry_id="id")
    @app_commands.describe(entry_id="The entry to bring back")
    @app_commands.autocomplete(entry_id=_entry_option("restore"))
    async def restore(self, interaction: discord.Interaction, entry_id: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await reply(interaction, await restore(self.bot, interaction.guild_id, actor_of(interaction), entry_id))

    @app_commands.command(name="hide", description="Stop a curated entry answering in this server")
    @app_commands.rename(entry_id="id")
    @app_commands.describe(entry_id="The curated entry to hide here")
    @app_commands.autocomplete(entry_id=_entry_option("hide"))
    async def hide(self, interaction: discord.Interaction, entry_id: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await reply(interaction, await hide(self.bot, interaction.guild_id, actor_of(interaction), entry_id))

    @app_commands.command(name="unhide", description="Let a hidden curated entry answer in this server again")
    @app_commands.rename(entry_id="id")
    @app_commands.describe(entry_id="The curated entry to show again")
    @app_commands.autocomplete(entry_id=_entry_option("unhide"))
    async def unhide(self, interaction: discord.Interaction, entry_id: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await reply(interaction, await unhide(self.bot, interaction.guild_id, actor_of(interaction), entry_id))

    @app_commands.command(name="list", description="List the FAQ entries of this server and the curated ones")
    @app_commands.describe(which="Which entries to list", page="Page to start on")
    async def list_entries(self, interaction: discord.Interaction, which: Listing = "all",
                           page: app_commands.Range[int, 1, 10000] = 1) -> None:
        shown = faq_page(self.bot, interaction.guild_id, which, page - 1)
        view = page_view(shown)
        kwargs = {"view": view} if view else {}
        await interaction.response.send_message(embed=page_embed(shown), ephemeral=True,
                                                allowed_mentions=NO_MENTIONS, **kwargs)

    @app_commands.command(name="show", description="Show one entry, with who changed it and when")
    @app_commands.rename(entry_id="id")
    @app_commands.describe(entry_id="The entry to show")
    @app_commands.autocomplete(entry_id=_entry_option("show"))
    async def show(self, interaction: discord.Interaction, entry_id: str) -> None:
        if moderator_view(self.bot, interaction.guild_id, entry_id) is None:
            await reply(interaction, Outcome(f"No entry with id `{entry_id}`.", ok=False))
        else:
            await reply(interaction, Outcome(f"`{entry_id}`", entry_id=entry_id))

    @app_commands.command(name="gaps", description="Questions that got no answer, grouped, most asked first")
    @app_commands.describe(days="How far back to look (days)")
    async def gaps(self, interaction: discord.Interaction, days: app_commands.Range[int, 1, 365] = 30) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await self._gaps_report(interaction.guild_id, days)
        embed = discord.Embed(title="Unanswered questions", description=outcome.text)
        await interaction.followup.send(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)

    def _gaps_report(self, guild_id: int, days: int) -> Awaitable[Outcome]:
        """The report being built for this server, or a new one: repeated clicks share one report."""
        key = (guild_id, days)
        task = self._gap_reports.get(key)
        if task is None:
            task = self._gap_reports[key] = asyncio.ensure_future(gaps_report(self.bot, guild_id, days))
            task.add_done_callback(lambda _: self._gap_reports.pop(key, None))
        return asyncio.shield(task)  # a moderator who gives up does not cancel it for the others

    @app_commands.command(name="reload", description="Re-read the curated knowledge files (kept only if valid)")
    async def reload(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await reply(interaction, await reload_knowledge(self.bot, interaction.guild_id, actor_of(interaction)))

    @app_commands.command(name="export", description="Download this server's entries as YAML for the curated base")
    async def export(self, interaction: discord.Interaction) -> None:
        await reply(interaction, await export_entries(self.bot, interaction.guild_id))


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Moderation(bot))
