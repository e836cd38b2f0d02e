"""Members' suggestions in Discord: what members do is heard here, what moderators approve is drawn here.

Members: the answering cog and the answer buttons dispatch `mythbot_reply` (the bot replied to a member),
`mythbot_rejected` (👎 or "Not what I asked") and `mythbot_picked` (a "did you mean" pick);
`SuggestionListener` feeds them to `bot.faq.suggestions`, which decides what becomes a pending suggestion.
Nothing here changes an answer.

Moderators: `/faq suggestions` (in `commands.py`) shows the pending ones, four phrasings a page, grouped by
entry, each with Teach and Dismiss buttons. Every button keeps its state in its custom_id and checks the
moderator again:

- `mythbot:faq:sug:<ok|no>:<suggestion id>:<page>`: teach or dismiss one phrasing, then redraw that page;
- `mythbot:sugg:list:pending:<page>:<prev|next>`: Previous/Next (`_ui.PageButton`, pager `sugg`).

No member text is ever put in a custom_id: a phrasing is named by its oldest suggestion's id.
"""

import re
from typing import Any, Self

import discord
from discord.ext import commands

from bot.cogs._errors import NO_PINGS, GuardedButton, given
from bot.cogs._ui import PAGERS, clip, page_buttons, page_embed
from bot.cogs.answering import entry_of_bot_message
from bot.cogs.faq.access import actor_of, guild_of, host_of, refuse_unless_moderator
from bot.cogs.faq.views import PREFIX, members_text
from bot.discord_app import MythBot
from bot.engine.engine import Reply
from bot.faq.service import Outcome
from bot.faq.suggestions import Candidate, MemberSuggestions, Proposal, SuggestionBoard, SuggestionPage

PAGER = "sugg"
WHICH = "pending"
SOURCE_TEXT = {"pick": "picked", "reask": "asked again"}
EMPTY_TEXT = ("No suggestions waiting. When members press “Not what I asked” and pick another entry, or ask "
              "again and get an answer, their first question shows up here for you to teach or dismiss.")


# --- members ---------------------------------------------------------------------------------------------


class SuggestionListener(commands.Cog, name="FAQ suggestions"):
    def __init__(self, bot: MythBot) -> None:
        self.bot = bot
        self.members = MemberSuggestions(bot.records, bot.workers)

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)

    async def _keep(self, candidate: Candidate | None) -> None:
        if candidate is not None:
            await self.members.keep(candidate, self.bot.knowledge_for(candidate.guild_id))

    @commands.Cog.listener()
    async def on_mythbot_reply(self, guild_id: int | None, channel_id: int | None, member_id: int,
                               reply: Reply) -> None:
        if guild_id is None or channel_id is None:
            return  # suggestions are a server's; a DM teaches nothing
        result = reply.result
        await self._keep(self.members.watch.replied((guild_id, channel_id, member_id), result.question,
                                                    result.status, result.entry))

    @commands.Cog.listener()
    async def on_mythbot_rejected(self, interaction: discord.Interaction[Any], entry_id: str | None) -> None:
        entry_id = entry_id or entry_of_bot_message(interaction.message)
        key = _member_key(interaction)
        if key is not None and entry_id is not None:
            self.members.watch.rejected(key, entry_id)

    @commands.Cog.listener()
    async def on_mythbot_picked(self, interaction: discord.Interaction[Any], entry_id: str) -> None:
        key = _member_key(interaction)
        if key is not None:
            await self._keep(self.members.watch.picked(key, entry_id))


def _member_key(interaction: discord.Interaction[Any]) -> tuple[int, int, int] | None:
    if interaction.guild_id is None or interaction.channel_id is None or interaction.user.bot:
        return None
    return interaction.guild_id, interaction.channel_id, interaction.user.id


# --- moderators ----------------------------------------------------------------------------------------------


def board_of(interaction: discord.Interaction[Any]) -> SuggestionBoard:
    service = host_of(interaction).service
    return SuggestionBoard(lambda: service.engine, service.faq, service.records, service.workers)


def proposal_line(number: int, proposal: Proposal) -> str:
    members = f"{proposal.members} member{'s' if proposal.members != 1 else ''}"
    how = ", ".join(SOURCE_TEXT.get(source, source) for source in proposal.sources)
    return f"**{number}.** “{members_text(proposal.question, 150)}” · {members} ({how})"


def page_text(page: SuggestionPage) -> list[str]:
    lines: list[str] = []
    shown: str | None = None
    for number, proposal in enumerate(page.proposals, 1):
        if proposal.entry_id != shown:
            shown = proposal.entry_id
            title = discord.utils.escape_markdown(clip(proposal.title, 100))
            lines.append(f"{chr(10) if lines else ''}__{title}__ (`{proposal.entry_id}`)")
        lines.append(proposal_line(number, proposal))
    return lines


def suggestions_message(page: SuggestionPage) -> tuple[discord.Embed, discord.ui.View | None]:
    if not page.proposals:
        return page_embed("Suggestions from members", [EMPTY_TEXT]), None
    header = ("Members' questions, with the entry they found after it. **Teach** adds the question as a phrasing "
              "of that entry in this server; **Dismiss** drops it. Nothing changes until you choose.\n")
    embed = page_embed("Suggestions from members", [header, *page_text(page)], page.number, page.count,
                       footer=f"Page {page.number + 1} of {page.count} · {page.total} phrasings waiting")
    view = page_buttons(PAGER, WHICH, page.number, page.count) or discord.ui.View(timeout=None)
    for row, (number, proposal) in enumerate(enumerate(page.proposals, 1)):
        view.add_item(SuggestionButton("ok", proposal.id, page.number, number, row=row + 1))
        view.add_item(SuggestionButton("no", proposal.id, page.number, number, row=row + 1))
    return embed, view


async def send_suggestions(interaction: discord.Interaction[Any], number: int) -> None:
    """`/faq suggestions`: the page, privately."""
    await interaction.response.defer(ephemeral=True, thinking=True)
    page = await board_of(interaction).page(guild_of(interaction), number)
    if isinstance(page, Outcome):
        await interaction.followup.send(page.text, ephemeral=True, allowed_mentions=NO_PINGS)
        return
    embed, view = suggestions_message(page)
    await interaction.followup.send(embed=embed, view=given(view), ephemeral=True, allowed_mentions=NO_PINGS)


async def redraw(interaction: discord.Interaction[Any], number: int, text: str | None = None) -> None:
    """Show page `number` again in the message clicked, with what was just done above it."""
    page = await board_of(interaction).page(guild_of(interaction), number)
    if isinstance(page, Outcome):
        await interaction.response.edit_message(content=page.text, embed=None, view=None)
        return
    embed, view = suggestions_message(page)
    await interaction.response.edit_message(content=text, embed=embed, view=view, allowed_mentions=NO_PINGS)


async def turn_page(interaction: discord.Interaction[Any], which: str, number: int) -> None:
    if await refuse_unless_moderator(interaction):
        await redraw(interaction, number)


PAGERS[PAGER] = turn_page


class SuggestionButton(GuardedButton,
                       template=rf"{PREFIX}:sug:(?P<verb>ok|no):(?P<id>[0-9]{{1,19}}):(?P<page>[0-9]{{1,5}})"):
    """Teach (`ok`) or dismiss (`no`) one suggested phrasing: at most 12 + 4 + 3 + 19 + 1 + 5 = 44 characters."""

    def __init__(self, verb: str, suggestion_id: int, page: int, number: int | None = None, row: int | None = None
                 ) -> None:
        teach = verb == "ok"
        label = ("Teach" if teach else "Dismiss") + (f" {number}" if number is not None else "")
        super().__init__(discord.ui.Button(
            label=label, emoji="✅" if teach else "✖️",
            style=discord.ButtonStyle.success if teach else discord.ButtonStyle.secondary, row=row,
            custom_id=f"{PREFIX}:sug:{verb}:{suggestion_id}:{page}"))
        self.verb, self.suggestion_id, self.page = verb, suggestion_id, page

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> Self:
        return cls(match["verb"], int(match["id"]), int(match["page"]))

    async def allowed(self, interaction: discord.Interaction[Any], /) -> bool:
        return await refuse_unless_moderator(interaction)

    async def clicked(self, interaction: discord.Interaction[Any], /) -> None:
        board, guild_id, actor = board_of(interaction), guild_of(interaction), actor_of(interaction)
        act = board.approve if self.verb == "ok" else board.dismiss
        outcome = await act(guild_id, actor, self.suggestion_id)
        await redraw(interaction, self.page, ("✅ " if outcome.ok else "⚠️ ") + outcome.text)


DYNAMIC_ITEMS = (SuggestionButton,)
