"""Embeds, buttons and list pages shared by the cogs (the answer card, citations, pagers, `clip`,
autocomplete `choices`; `NO_PINGS` lives in `_errors`, the lowest layer). Buttons are DynamicItems whose
custom_id carries what they need (`mythbot:<action>:<entry-id>`), so they keep working after a restart."""

import itertools
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Self

import discord
from discord import app_commands

from bot.cogs._errors import NO_PINGS, GuardedButton, GuardedView
from bot.discord_app import MythBot
from bot.engine.engine import GuildKnowledge, Reply
from bot.engine.render import EntryView

log = logging.getLogger(__name__)

EMBED_TITLE_MAX, EMBED_DESCRIPTION_MAX, FIELD_MAX, EMBED_TOTAL_MAX = 256, 4096, 1024, 6000
CUSTOM_ID_MAX = 100
MAX_CHOICES, CHOICE_MAX = 25, 100  # autocomplete: suggestions, and characters of each name and value
SAFETY_FIELD = "⚠️ Safety"
ENTRY = r"(?P<entry>[a-z0-9]+(?:-[a-z0-9]+)*)"
VERDICT_COLOURS = {
    "myth": discord.Colour.red(),
    "true": discord.Colour.green(),
    "partly true": discord.Colour.gold(),
    "depends": discord.Colour.blurple(),
    "unproven": discord.Colour.light_grey(),
}
GONE_TEXT = "That entry is no longer available."
NO_ANSWER_TEXT = (
    "I don't have a sourced answer for that yet, so I've noted the question for the moderators. "
    "Try naming the topic, e.g. “do squats fix hip dips?”, or browse with `/myth`."
)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def choices(pairs: Iterable[tuple[str, str]]) -> list[app_commands.Choice[str]]:
    """Autocomplete suggestions from (value, name) pairs, best first, within Discord's limits."""
    return [app_commands.Choice(name=clip(name, CHOICE_MAX), value=value[:CHOICE_MAX])
            for value, name in itertools.islice(pairs, MAX_CHOICES)]


def bulleted(items: tuple[str, ...], numbered: bool = False) -> str:
    lines = [f"{i}. {item}" if numbered else f"• {item}" for i, item in enumerate(items, 1)]
    return clip("\n".join(lines), FIELD_MAX)


def _link_target(url: str) -> str:
    # A ")" would end the markdown link early (DOIs may contain parentheses); doi.org reads them encoded.
    return url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")


def source_lines(view: EntryView, limit: int = FIELD_MAX) -> str:
    """Short citations ('Plotkin et al. 2023, Front Physiol'), each linked; whole lines only, within `limit`."""
    lines = []
    for source in view.sources:
        text = clip((source.short or source.citation).replace("[", "(").replace("]", ")"), 180)
        lines.append(f"• [{text}]({_link_target(source.link)})" if source.link else f"• {text}")
    for shown in range(len(lines), 0, -1):
        hidden = len(lines) - shown
        text = "\n".join(lines[:shown] + ([f"…and {hidden} more under 📚 Sources"] if hidden else []))
        if len(text) <= limit:
            return text
    return f"{len(lines)} sources under 📚 Sources"


def fit(embed: discord.Embed) -> discord.Embed:
    """Drop trailing fields until the embed is within Discord's 6000-character total."""
    while len(embed) > EMBED_TOTAL_MAX and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    return embed


def add_safety(embed: discord.Embed, view: EntryView) -> None:
    """The safety note goes right under the answer, before the verdict, so nobody scrolls past it."""
    if view.safety:
        embed.add_field(name=SAFETY_FIELD, value=clip(view.safety, FIELD_MAX), inline=False)


def answer_embed(view: EntryView) -> discord.Embed:
    if view.kind == "exercise":
        return exercise_embed(view)
    embed = discord.Embed(
        title=clip(view.title, EMBED_TITLE_MAX),
        description=clip(view.body, EMBED_DESCRIPTION_MAX),
        colour=VERDICT_COLOURS.get(view.verdict or "", discord.Colour.blurple()),
    )
    add_safety(embed, view)
    if view.verdict_label:
        embed.add_field(name="Verdict", value=view.verdict_label, inline=True)
    embed.add_field(name="Evidence", value=clip(view.evidence_label, FIELD_MAX), inline=True)
    if view.sources:
        embed.add_field(name="Sources", value=source_lines(view), inline=False)
    if view.related:
        embed.add_field(name="Related", value=clip(", ".join(title for _, title in view.related), FIELD_MAX),
                        inline=False)
    embed.set_footer(text="Reply “sources?”, “why?” or “what exercises then?” to keep going.")
    return fit(embed)


def exercise_embed(view: EntryView) -> discord.Embed:
    details = view.exercise
    embed = discord.Embed(title=clip(view.title, EMBED_TITLE_MAX), description=clip(view.body, EMBED_DESCRIPTION_MAX),
                          colour=discord.Colour.teal())
    add_safety(embed, view)
    trains = ", ".join(details.get("muscles", ()))
    if details.get("secondary_muscles"):
        trains += f" (also {', '.join(details['secondary_muscles'])})"
    embed.add_field(name="Trains", value=clip(trains, FIELD_MAX) or "—", inline=True)
    if details.get("equipment"):
        embed.add_field(name="Equipment", value=clip(", ".join(details["equipment"]), FIELD_MAX), inline=True)
    for key, label in (("steps", "How to"), ("cues", "Cues"), ("mistakes", "Common mistakes"),
                       ("easier", "Easier"), ("harder", "Harder")):
        if details.get(key):
            embed.add_field(name=label, value=bulleted(details[key], numbered=key == "steps"), inline=False)
    embed.add_field(name=f"What the evidence says ({view.evidence})", value=clip(view.more or "", FIELD_MAX),
                    inline=False)
    if view.sources:
        embed.add_field(name="Sources", value=source_lines(view), inline=False)
    return fit(embed)


def sources_embed(view: EntryView) -> discord.Embed:
    lines = [f"**{s.citation}**\n{s.link or 'no public link'}" for s in view.sources]
    return discord.Embed(title=clip(f"Sources: {view.title}", EMBED_TITLE_MAX),
                         description=clip("\n\n".join(lines) or "No sources listed.", EMBED_DESCRIPTION_MAX),
                         colour=discord.Colour.dark_grey())


def more_embed(view: EntryView) -> discord.Embed:
    text = view.more or "That's the whole answer; the sources have the detail."
    return discord.Embed(title=clip(f"More: {view.title}", EMBED_TITLE_MAX), description=clip(text, 4096),
                         colour=discord.Colour.blurple())


def related_exercises_text(knowledge: GuildKnowledge, view: EntryView) -> str:
    names = knowledge.related_exercises(view)
    if not names:
        return "This topic has no linked exercises; try `/exercises` to browse them all."
    return "Exercises for this: " + ", ".join(f"**{name}**" for name in names) + ". Use `/exercise` for how-tos."


Drawn = tuple[str | None, discord.Embed | None, discord.ui.View | None]  # content, embed, buttons


def reply_parts(knowledge: GuildKnowledge, reply: Reply, asker_id: int) -> Drawn:
    """How a member sees what the engine decided: the answer card, "did you mean" buttons, or no answer."""
    result = reply.result
    if result.status == "answer" and reply.view is not None:
        return None, answer_embed(reply.view), answer_view(reply.view, [alt.entry for alt in result.alternatives])
    if result.status == "clarify":
        return "Did you mean one of these?", None, pick_view(knowledge.did_you_mean(result), asker_id)
    return NO_ANSWER_TEXT, None, None


def knowledge_for(interaction: discord.Interaction[Any]) -> GuildKnowledge:
    """What the member behind this interaction may be shown: their server's view of the knowledge."""
    return MythBot.of(interaction).knowledge_for(interaction.guild_id)


async def _gone(interaction: discord.Interaction[Any]) -> None:
    await interaction.response.send_message(GONE_TEXT, ephemeral=True, allowed_mentions=NO_PINGS)


class SourcesButton(GuardedButton, template=rf"mythbot:src:{ENTRY}"):
    def __init__(self, entry_id: str) -> None:
        super().__init__(discord.ui.Button(label="Sources", emoji="📚", style=discord.ButtonStyle.secondary,
                                           custom_id=f"mythbot:src:{entry_id}"))
        self.entry_id = entry_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> Self:
        return cls(match["entry"])

    async def clicked(self, interaction: discord.Interaction[Any], /) -> None:
        view = knowledge_for(interaction).view(self.entry_id)
        if view is None:
            await _gone(interaction)
            return
        await interaction.response.send_message(embed=sources_embed(view), ephemeral=True, allowed_mentions=NO_PINGS)


class NotWhatIAskedButton(GuardedButton,
                          template=r"mythbot:alt:(?P<ids>[a-z0-9,-]*)"):
    def __init__(self, alternative_ids: list[str]) -> None:
        ids = ""
        for entry_id in alternative_ids:
            candidate = f"{ids},{entry_id}" if ids else entry_id
            if len("mythbot:alt:" + candidate) > CUSTOM_ID_MAX:
                break
            ids = candidate
        super().__init__(discord.ui.Button(label="Not what I asked", emoji="🤔", style=discord.ButtonStyle.secondary,
                                           custom_id=f"mythbot:alt:{ids}"))
        self.alternative_ids = [i for i in ids.split(",") if i]

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> Self:
        return cls(match["ids"].split(","))

    async def clicked(self, interaction: discord.Interaction[Any], /) -> None:
        MythBot.of(interaction).dispatch("mythbot_rejected", interaction, None)  # the entry: read from the message
        options = knowledge_for(interaction).titles(self.alternative_ids)
        if not options:
            text = "I have nothing closer, sorry. Try rephrasing with `/ask`, or browse with `/myth`."
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)
            return
        await interaction.response.send_message("Did you mean one of these?",
                                                view=pick_view(options, interaction.user.id),
                                                ephemeral=True, allowed_mentions=NO_PINGS)


class PickButton(GuardedButton,
                 template=rf"mythbot:pick:{ENTRY}(?::(?P<asker>[0-9]{{1,20}}))?"):
    """Shows the chosen entry in place of the message it sits on (a 'did you mean' or a list). Only the member
    who asked may pick: their id rides in the custom_id (`mythbot:pick:<entry>:<asker>`, at most 98
    characters), so it holds after a restart. Buttons sent before it carried the asker stay open to all."""

    def __init__(self, entry_id: str, label: str = "Show", asker_id: int | None = None) -> None:
        asker = f":{asker_id}" if asker_id is not None else ""
        super().__init__(discord.ui.Button(label=clip(label, 80), style=discord.ButtonStyle.primary,
                                           custom_id=f"mythbot:pick:{entry_id}{asker}"))
        self.entry_id = entry_id
        self.asker_id = asker_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> Self:
        return cls(match["entry"], asker_id=int(match["asker"]) if match["asker"] else None)

    async def allowed(self, interaction: discord.Interaction[Any], /) -> bool:
        if self.asker_id is None or interaction.user.id == self.asker_id:
            return True
        await interaction.response.send_message(
            "Only the member who asked can pick one of these; ask me yourself with `/ask`.", ephemeral=True,
            allowed_mentions=NO_PINGS)
        return False

    async def clicked(self, interaction: discord.Interaction[Any], /) -> None:
        view = knowledge_for(interaction).view(self.entry_id)
        if view is None:
            await _gone(interaction)
            return
        await interaction.response.edit_message(content=None, embed=answer_embed(view), view=answer_view(view, []),
                                                allowed_mentions=NO_PINGS)
        MythBot.of(interaction).conversations.remember(interaction.user.id, interaction.channel_id or 0, view.id)
        MythBot.of(interaction).dispatch("mythbot_picked", interaction, view.id)


class VoteButton(GuardedButton, template=rf"mythbot:vote:(?P<helpful>[01]):{ENTRY}"):
    def __init__(self, entry_id: str, helpful: bool) -> None:
        super().__init__(discord.ui.Button(
            emoji="👍" if helpful else "👎", style=discord.ButtonStyle.secondary,
            custom_id=f"mythbot:vote:{int(helpful)}:{entry_id}"))
        self.entry_id = entry_id
        self.helpful = helpful

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> Self:
        return cls(match["entry"], match["helpful"] == "1")

    async def clicked(self, interaction: discord.Interaction[Any], /) -> None:
        bot = MythBot.of(interaction)
        message_id = interaction.message.id if interaction.message else interaction.id
        # Recorded here, where the member decided; off the event loop and bounded by the workers' record
        # timeout, well within Discord's 3 s.
        first = await bot.workers.record("feedback", bot.records.record_feedback, interaction.guild_id, message_id,
                                         interaction.user.id, entry_id=self.entry_id, helpful=self.helpful)
        if first is None:
            thanks = "Thanks! I couldn't save your vote just now, sorry; please try again later."
        else:
            thanks = "Thanks, noted!" if first else "Thanks, I've updated your vote."
        await interaction.response.send_message(thanks, ephemeral=True, allowed_mentions=NO_PINGS)
        if not self.helpful:
            bot.dispatch("mythbot_rejected", interaction, self.entry_id)


# Lists that page through buttons surviving restarts: the page rides in the custom_id
# (`mythbot:<pager>:list:<which>:<page>:<prev|next>`) and the feature owning the list registers how to turn
# to a page (answering the interaction itself), e.g. `PAGERS["faq"]` for `/faq list`.
PageTurner = Callable[[discord.Interaction[Any], str, int], Awaitable[None]]
PAGERS: dict[str, PageTurner] = {}
EXPIRED_LIST_TEXT = "This list expired (the bot restarted, or it sat unused): run the command again."


class PageButton(GuardedButton,
                 template=r"mythbot:(?P<pager>[a-z]+):list:(?P<which>[a-z]+):(?P<page>\d{1,5}):(?P<direction>prev|next)"):
    """Previous/Next of a list whose page to show is in the custom_id; no state is kept."""

    def __init__(self, pager: str, which: str, page: int, direction: str, *, disabled: bool = False) -> None:
        super().__init__(discord.ui.Button(label="◀ Previous" if direction == "prev" else "Next ▶",
                                           style=discord.ButtonStyle.secondary, disabled=disabled,
                                           custom_id=f"mythbot:{pager}:list:{which}:{page}:{direction}"))
        self.pager, self.which, self.page = pager, which, page

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> Self:
        return cls(match["pager"], match["which"], int(match["page"]), match["direction"])

    async def clicked(self, interaction: discord.Interaction[Any], /) -> None:
        turn = PAGERS.get(self.pager)
        if turn is None:
            await interaction.response.send_message(EXPIRED_LIST_TEXT, ephemeral=True, allowed_mentions=NO_PINGS)
            return
        await turn(interaction, self.which, self.page)


def page_buttons(pager: str, which: str, number: int, count: int) -> discord.ui.View | None:
    """Previous/Next under page `number` (0-based) of `count`; None when there is one page."""
    if count <= 1:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(PageButton(pager, which, max(number - 1, 0), "prev", disabled=number == 0))
    view.add_item(PageButton(pager, which, min(number + 1, count - 1), "next", disabled=number >= count - 1))
    return view


def page_embed(title: str, lines: list[str], number: int = 0, count: int = 1, footer: str | None = None
               ) -> discord.Embed:
    """One page of a list, the same for every list (`paged_embeds` for lists held in memory)."""
    embed = discord.Embed(title=clip(title, EMBED_TITLE_MAX), description=clip("\n".join(lines), EMBED_DESCRIPTION_MAX),
                          colour=discord.Colour.blurple())
    if footer or count > 1:
        embed.set_footer(text=footer or f"Page {number + 1} of {count}")
    return embed


DYNAMIC_ITEMS = (SourcesButton, NotWhatIAskedButton, PickButton, VoteButton, PageButton)


def answer_view(view: EntryView, alternative_ids: list[str]) -> discord.ui.View:
    buttons = discord.ui.View(timeout=None)
    if view.sources:
        buttons.add_item(SourcesButton(view.id))
    buttons.add_item(NotWhatIAskedButton(alternative_ids))
    buttons.add_item(VoteButton(view.id, helpful=True))
    buttons.add_item(VoteButton(view.id, helpful=False))
    return buttons


def pick_view(options: list[tuple[str, str]], asker_id: int) -> discord.ui.View:
    buttons = discord.ui.View(timeout=None)
    for entry_id, title in options[:5]:
        buttons.add_item(PickButton(entry_id, label=title, asker_id=asker_id))
    return buttons


class Paginator(GuardedView):
    """Pages of embeds with Previous/Next; only the member who asked can turn them."""

    def __init__(self, pages: list[discord.Embed], owner_id: int, timeout: float = 300) -> None:
        super().__init__(timeout=timeout)
        self.pages = pages
        self.owner_id = owner_id
        self.index = 0
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        self.previous.disabled = self.index == 0
        self.next.disabled = self.index >= len(self.pages) - 1

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message("Only the member who asked can turn these pages.",
                                                    ephemeral=True, allowed_mentions=NO_PINGS)
            return False
        return True

    async def _show(self, interaction: discord.Interaction[Any], step: int) -> None:
        self.index = max(0, min(len(self.pages) - 1, self.index + step))
        self._sync_buttons()
        await interaction.response.edit_message(embed=self.pages[self.index], view=self, allowed_mentions=NO_PINGS)

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction[Any], _: discord.ui.Button["Paginator"]) -> None:
        await self._show(interaction, -1)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction[Any], _: discord.ui.Button["Paginator"]) -> None:
        await self._show(interaction, 1)


def paged_embeds(title: str, lines: list[str], per_page: int = 10) -> list[discord.Embed]:
    chunks = [lines[i : i + per_page] for i in range(0, len(lines), per_page)] or [["Nothing to show."]]
    return [page_embed(title, chunk, number, len(chunks)) for number, chunk in enumerate(chunks)]
