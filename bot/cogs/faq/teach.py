"""Teach the bot from `/faq gaps`, and undo it: the Discord side of `bot.faq.teaching`.

- Under the gaps report, one select per group (Discord shows five rows, so the five most asked groups):
  "answer these with…" the likely entries, or "write a new entry" (the `/faq add` form with the group's
  questions). Choosing an entry teaches the group's questions as this server's phrasings of it.
- `/faq untrain id`, and "Forget taught phrasings" on the `/faq show` card: a select of the phrasings taught
  for the entry (or all of them) to forget.

Every component is a DynamicItem whose state is in its custom_id, so it works after a restart, and none
carries what members typed: a group is named by a key (`bot.faq.teaching.group_key`) and found again in the
server's gaps report; a phrasing by `phrasing_key`. Every one checks the moderator again.

custom_ids (at most 84 characters):
    mythbot:faq:teach:<days>:<group key>      the select under a group of the gaps report
    mythbot:faq:teachnew:<days>:<group key>   "Open the form" when a restart lost the report
    mythbot:faq:untrain:<entry id>            the select of taught phrasings to forget
    mythbot:faq:forget:<entry id>             "Forget taught phrasings" on the card
"""

import re
from typing import Any, Self

import discord

from bot.cogs._errors import GuardedButton, GuardedSelect
from bot.cogs._ui import clip
from bot.cogs.faq.access import actor_of, guild_of, host_of, refuse_unless_moderator
from bot.cogs.faq.form import FaqForm
from bot.cogs.faq.views import PREFIX, reply
from bot.engine.gaps import Gap
from bot.engine.schema import PHRASING_MAX
from bot.faq.drafts import QUESTIONS, Draft
from bot.faq.service import Card, GapReport, Outcome
from bot.faq.teaching import KEY_LENGTH, Candidate, Teaching, group_key, group_questions, phrasing_key

GROUPS_OFFERED = 5  # a message holds five rows of components: one select per group
OPTION_MAX, PLACEHOLDER_MAX, SELECT_OPTIONS_MAX = 100, 150, 25
NEW_ENTRY = "+new"  # select values that are not entry ids (which are [a-z0-9-])
ALL = "+all"
_ENTRY = r"(?P<entry>[a-z0-9-]{1,64})"
_GROUP = rf"(?P<days>[0-9]{{1,3}}):(?P<key>[0-9a-f]{{{KEY_LENGTH}}})"
ORIGINS = {"closest": "closest match when asked", "curated": "curated", "server": "this server's entry"}
RESTARTED = ("The bot restarted since that report was made, so the form needs one more click. "
             "**Open the form** starts a new entry with these questions.")


def teaching_of(interaction: discord.Interaction[Any]) -> Teaching:
    return Teaching(host_of(interaction).service)


class ModeratorSelect(GuardedSelect, template=r"(?!)"):
    """A select that survives restarts, for moderators only (others get a private refusal)."""

    async def allowed(self, interaction: discord.Interaction[Any], /) -> bool:
        return await refuse_unless_moderator(interaction)


# --- answering a group of the gaps report --------------------------------------------------------------------

class TeachSelect(ModeratorSelect, template=rf"{PREFIX}:teach:{_GROUP}"):
    """"Answer these with…" under one group: teach its questions to the entry chosen, or write a new one."""

    def __init__(self, days: int, key: str, item: discord.ui.Select[discord.ui.View] | None = None) -> None:
        super().__init__(item or discord.ui.Select(custom_id=f"{PREFIX}:teach:{days}:{key}"))
        self.days, self.key = days, key

    @classmethod
    def of(cls, days: int, gap: Gap, options: tuple[Candidate, ...]) -> Self:
        select: discord.ui.Select[discord.ui.View] = discord.ui.Select(
            custom_id=f"{PREFIX}:teach:{days}:{group_key(gap)}",
            placeholder=clip(f"Answer “{' '.join(gap.example.split())}” with…", PLACEHOLDER_MAX))
        for candidate in options:
            select.add_option(label=clip(candidate.title, OPTION_MAX), value=candidate.entry_id,
                              description=clip(f"{candidate.entry_id} · {ORIGINS[candidate.origin]}", OPTION_MAX))
        select.add_option(label="Write a new entry…", value=NEW_ENTRY, emoji="✏️",
                          description="Opens /faq add with these questions")
        return cls(days, group_key(gap), select)

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> Self:
        return cls(int(match["days"]), match["key"], item if isinstance(item, discord.ui.Select) else None)

    async def chosen(self, interaction: discord.Interaction[Any], values: list[str], /) -> None:
        choice = values[0] if values else NEW_ENTRY
        if choice == NEW_ENTRY:
            await open_new_entry_form(interaction, self.days, self.key)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        teaching = teaching_of(interaction)
        gap = await teaching.group(guild_of(interaction), self.days, self.key)
        if isinstance(gap, Outcome):
            await reply(interaction, gap)
            return
        await reply(interaction, await teaching.teach(guild_of(interaction), actor_of(interaction), choice,
                                                      group_questions(gap)))


def new_entry_draft(gap: Gap) -> Draft:
    """The `/faq add` form with the group's questions as its phrasings: those an entry can take, whole, as many
    as fit the field."""
    lines: list[str] = []
    for question in group_questions(gap):
        line = " ".join(question.split())
        if len(line) <= PHRASING_MAX and len("\n".join([*lines, line])) <= QUESTIONS.max_length:
            lines.append(line)
    return Draft(questions="\n".join(lines))


async def open_new_entry_form(interaction: discord.Interaction[Any], days: int, key: str) -> None:
    """The form at once when this process has the report; after a restart the report is built again first,
    and as a form must be the first answer to a click, a button then opens it."""
    teaching = teaching_of(interaction)
    gap = teaching.cached_group(guild_of(interaction), days, key)
    if gap is not None:
        await interaction.response.send_modal(FaqForm(new_entry_draft(gap)))
        return
    await interaction.response.defer(ephemeral=True, thinking=True)
    found = await teaching.group(guild_of(interaction), days, key)
    if isinstance(found, Outcome):
        await reply(interaction, found)
        return
    view = discord.ui.View(timeout=None)
    view.add_item(NewEntryButton(days, key))
    await reply(interaction, Outcome(RESTARTED), view=view)


class NewEntryButton(GuardedButton, template=rf"{PREFIX}:teachnew:{_GROUP}"):
    def __init__(self, days: int, key: str) -> None:
        super().__init__(discord.ui.Button(label="Open the form", style=discord.ButtonStyle.primary,
                                           custom_id=f"{PREFIX}:teachnew:{days}:{key}"))
        self.days, self.key = days, key

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> Self:
        return cls(int(match["days"]), match["key"])

    async def allowed(self, interaction: discord.Interaction[Any], /) -> bool:
        return await refuse_unless_moderator(interaction)

    async def clicked(self, interaction: discord.Interaction[Any], /) -> None:
        await open_new_entry_form(interaction, self.days, self.key)


async def gaps_view(interaction: discord.Interaction[Any], report: GapReport) -> discord.ui.View | None:
    """The selects under the report: one for each of its most asked groups."""
    if not report.gaps:
        return None
    teachable = await teaching_of(interaction).teachable(guild_of(interaction), report, GROUPS_OFFERED)
    view = discord.ui.View(timeout=None)
    for gap, options in zip(report.gaps, teachable.options, strict=False):
        view.add_item(TeachSelect.of(report.days, gap, options))
    return view


# --- undo ------------------------------------------------------------------------------------------------------

class UntrainSelect(ModeratorSelect, template=rf"{PREFIX}:untrain:{_ENTRY}"):
    """The phrasings taught for one entry here: those chosen (or all) are forgotten."""

    def __init__(self, entry_id: str, item: discord.ui.Select[discord.ui.View] | None = None) -> None:
        super().__init__(item or discord.ui.Select(custom_id=f"{PREFIX}:untrain:{entry_id}"))
        self.entry_id = entry_id

    @classmethod
    def of(cls, entry_id: str, taught: tuple[str, ...]) -> Self:
        shown = taught[:SELECT_OPTIONS_MAX - 1]
        select: discord.ui.Select[discord.ui.View] = discord.ui.Select(
            custom_id=f"{PREFIX}:untrain:{entry_id}", placeholder="Phrasings to forget…", min_values=1,
            max_values=len(shown) + 1)
        select.add_option(label=f"All {len(taught)} taught here", value=ALL, emoji="🧹")
        for text in shown:
            select.add_option(label=clip(" ".join(text.split()), OPTION_MAX), value=phrasing_key(text))
        return cls(entry_id, select)

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> Self:
        return cls(match["entry"], item if isinstance(item, discord.ui.Select) else None)

    async def chosen(self, interaction: discord.Interaction[Any], values: list[str], /) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        keys = None if ALL in values else values
        outcome = await teaching_of(interaction).untrain(guild_of(interaction), actor_of(interaction), self.entry_id,
                                                         keys)
        await reply(interaction, outcome)


async def offer_untrain(interaction: discord.Interaction[Any], entry_id: str) -> None:
    """The select of what was taught for `entry_id` here, or why there is nothing to forget."""
    taught = teaching_of(interaction).taught(guild_of(interaction), entry_id)
    if not taught:
        await reply(interaction, Outcome(f"Nothing was taught for `{entry_id}` in this server.", ok=False))
        return
    more = f" (the first {SELECT_OPTIONS_MAX - 1} are listed)" if len(taught) >= SELECT_OPTIONS_MAX else ""
    view = discord.ui.View(timeout=None)
    view.add_item(UntrainSelect.of(entry_id, taught))
    await reply(interaction, Outcome(f"Which phrasings taught for `{entry_id}` should it forget? "
                                     f"{len(taught)} taught here{more}."), view=view)


class ForgetButton(GuardedButton, template=rf"{PREFIX}:forget:{_ENTRY}"):
    """On the `/faq show` card of an entry with taught phrasings."""

    def __init__(self, entry_id: str) -> None:
        super().__init__(discord.ui.Button(label="Forget taught phrasings", style=discord.ButtonStyle.secondary,
                                           custom_id=f"{PREFIX}:forget:{entry_id}"))
        self.entry_id = entry_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> Self:
        return cls(match["entry"])

    async def allowed(self, interaction: discord.Interaction[Any], /) -> bool:
        return await refuse_unless_moderator(interaction)

    async def clicked(self, interaction: discord.Interaction[Any], /) -> None:
        await offer_untrain(interaction, self.entry_id)


def card_view(card: Card) -> discord.ui.View | None:
    if not card.taught:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(ForgetButton(card.view.id))
    return view


DYNAMIC_ITEMS = (TeachSelect, NewEntryButton, UntrainSelect, ForgetButton)
