"""How `/faq` looks in Discord: replies, the entry card with its history, list pages, the gaps report,
and the confirm/cancel buttons of `/faq remove`. Every button's state is in its custom_id, so it keeps
working after a restart; each one checks the moderator again."""

import io
import re
from typing import Any, Self

import discord

from bot.cogs._errors import NO_PINGS, GuardedButton, given
from bot.cogs._ui import FIELD_MAX, PAGERS, answer_embed, clip, fit, page_buttons, page_embed
from bot.cogs.faq.access import actor_of, guild_of, host_of, refuse_unless_moderator
from bot.faq.service import Card, GapReport, Outcome, Page, Prompt, as_listing
from bot.storage.base import Revision

PREFIX = "mythbot:faq"
PAGER = "faq"  # /faq list pages: mythbot:faq:list:<which>:<page>:<prev|next> (see _ui.PageButton)
MESSAGE_MAX = 1900
REPORT_MAX = 4000
FOOTER_MAX = 2048


async def reply(interaction: discord.Interaction[Any], outcome: Outcome, *, view: discord.ui.View | None = None,
                edit: bool = False) -> None:
    """Send an outcome privately: as the response, a follow-up after a defer, or by editing the message; with
    the card of the entry it names."""
    text = clip(outcome.text, MESSAGE_MAX)
    card = None
    if outcome.entry_id:
        card = await host_of(interaction).service.card(guild_of(interaction), outcome.entry_id)
    embed = card_embed(card) if card else None
    if edit:  # None removes what the message had
        await interaction.response.edit_message(content=text, embed=embed, view=view, allowed_mentions=NO_PINGS)
        return
    file = discord.File(io.BytesIO(outcome.file[1]), filename=outcome.file[0]) if outcome.file else None
    if interaction.response.is_done():
        await interaction.followup.send(text, embed=given(embed), view=given(view), file=given(file), ephemeral=True,
                                        allowed_mentions=NO_PINGS)
    else:
        await interaction.response.send_message(text, embed=given(embed), view=given(view), file=given(file),
                                                ephemeral=True, allowed_mentions=NO_PINGS)


# --- the entry card ----------------------------------------------------------------------------------------

def card_embed(card: Card) -> discord.Embed:
    """The answer card members would see, with whose entry it is and, for the server's own, who saved which
    version when."""
    embed = answer_embed(card.view)
    if card.history:
        embed.add_field(name="History (newest first)", value=history_text(card.history), inline=False)
    if card.taught:
        embed.add_field(name=f"Taught here ({len(card.taught)})", value=taught_text(card.taught), inline=False)
    embed.set_footer(text=clip(f"{card.view.id} · {status_text(card)}", FOOTER_MAX))
    return fit(embed)


def status_text(card: Card) -> str:
    own = card.own
    if own is None:
        return "Curated (read-only from Discord)" + (" · hidden in this server" if card.hidden_here else "")
    parts = ["This server's entry" + (" · retired" if own.retired else "")]
    steward = own.stewardship
    if steward and steward.created_by:
        parts.append(f"added by {steward.created_by}" + (f" on {steward.created_at:%Y-%m-%d}" if steward.created_at
                                                          else ""))
    if steward and steward.updated_by:
        parts.append(f"last changed by {steward.updated_by}" + (f" on {steward.updated_at:%Y-%m-%d}"
                                                                if steward.updated_at else ""))
    return " · ".join(parts)


def taught_text(taught: tuple[str, ...]) -> str:
    """The phrasings moderators taught here (members' words, shown as typed, links broken)."""
    return clip("\n".join(f"• {members_text(text, 150)}" for text in taught), FIELD_MAX)


def history_text(history: tuple[Revision, ...]) -> str:
    lines = []
    for version in history:
        when = f"{version.saved_at:%Y-%m-%d %H:%M}" if version.saved_at else "date unknown"
        retired = " (retired)" if version.entry.retired else ""
        lines.append(f"• `{version.revision[:8]}` {when} by {discord.utils.escape_markdown(version.saved_by or '?')}"
                     f"{retired}")
    return clip("\n".join(lines), FIELD_MAX)


# --- list pages ----------------------------------------------------------------------------------------------

def list_page(page: Page) -> tuple[discord.Embed, discord.ui.View | None]:
    lines = [f"`{row.id}` {discord.utils.escape_markdown(clip(row.title, 80))} · {', '.join(row.tags)}"
             for row in page.rows]
    embed = page_embed(f"FAQ entries ({page.which})", lines or ["Nothing to list."], page.number, page.count,
                       footer=f"Page {page.number + 1} of {page.count} · {page.total} entries")
    return embed, page_buttons(PAGER, page.which, page.number, page.count)


async def turn_page(interaction: discord.Interaction[Any], which: str, number: int) -> None:
    """Previous/Next on `/faq list`. It finds the service of the bot clicked on, so one registration
    (`_ui.PAGERS["faq"]`, below) serves every bot in the process."""
    if not await refuse_unless_moderator(interaction):
        return
    listing = as_listing(which)
    if listing is None:
        await interaction.response.send_message("That list is not known; run `/faq list` again.", ephemeral=True,
                                                allowed_mentions=NO_PINGS)
        return
    embed, view = list_page(host_of(interaction).service.page(guild_of(interaction), listing, number))
    await interaction.response.edit_message(embed=embed, view=view)


PAGERS[PAGER] = turn_page


# --- the gaps report --------------------------------------------------------------------------------------------

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


def gaps_text(report: GapReport) -> str:
    if not report.gaps:
        return f"No open questions in the last {report.days} days: everything asked here has an answer now."
    lines = []
    for gap in report.gaps:
        line = f"**{gap.count}×** {members_text(gap.example, 150)}"
        if gap.wordings:
            line += "\n  also: " + " · ".join(members_text(w, 80) for w in gap.wordings)
        if gap.closest_entry:
            line += f"\n  closest entry: `{gap.closest_entry}`"
        lines.append(line)
    header = (f"Questions asked here in the last {report.days} days that got no answer (and still would not), "
              "most asked first. Each is a candidate for `/faq add`, or a new phrasing for an entry.")
    if report.checked < report.different:
        header += f" Only the {report.checked} most asked of {report.different} different questions were checked."
    return clip(header + "\n\n" + "\n".join(lines), REPORT_MAX)


# --- /faq remove: ask first ---------------------------------------------------------------------------------------

def prompt_text(prompt: Prompt) -> str:
    title = discord.utils.escape_markdown(prompt.title)
    if prompt.action == "retire":
        return (f"Retire **{title}** (`{prompt.entry_id}`)? It stops answering here; the text is kept and "
                "`/faq restore` brings it back.")
    return (f"**{title}** (`{prompt.entry_id}`) is curated, so it cannot be removed from Discord. Hide it in this "
            "server? `/faq unhide` shows it again.")


class ConfirmRemoval(GuardedButton,
                     template=rf"{PREFIX}:remove:(?P<action>retire|hide):(?P<entry>[a-z0-9-]{{1,64}})"):
    """The confirm button of `/faq remove`. It applies the same operation the prompt was a dry run of."""

    def __init__(self, action: str, entry_id: str) -> None:
        label = "Retire" if action == "retire" else "Hide in this server"
        super().__init__(discord.ui.Button(label=label, style=discord.ButtonStyle.danger,
                                           custom_id=f"{PREFIX}:remove:{action}:{entry_id}"))
        self.action, self.entry_id = action, entry_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> Self:
        return cls(match["action"], match["entry"])

    async def allowed(self, interaction: discord.Interaction[Any], /) -> bool:
        return await refuse_unless_moderator(interaction)

    async def clicked(self, interaction: discord.Interaction[Any], /) -> None:
        service = host_of(interaction).service
        outcome = await service.remove(guild_of(interaction), actor_of(interaction), self.entry_id)
        await reply(interaction, outcome, edit=True)


class CancelButton(GuardedButton, template=rf"{PREFIX}:cancel"):
    def __init__(self) -> None:
        super().__init__(discord.ui.Button(label="Cancel", style=discord.ButtonStyle.secondary,
                                           custom_id=f"{PREFIX}:cancel"))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> Self:
        return cls()

    async def allowed(self, interaction: discord.Interaction[Any], /) -> bool:
        return await refuse_unless_moderator(interaction)

    async def clicked(self, interaction: discord.Interaction[Any], /) -> None:
        await interaction.response.edit_message(content="Cancelled; nothing was changed.", embed=None, view=None)


def confirm_view(prompt: Prompt) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ConfirmRemoval(prompt.action, prompt.entry_id))
    view.add_item(CancelButton())
    return view


DYNAMIC_ITEMS = (ConfirmRemoval, CancelButton)
