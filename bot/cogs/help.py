"""/help and /myth (a random myth, or one picked from the list)."""

import asyncio
import logging
import random
from collections.abc import Mapping

import discord
from discord import app_commands
from discord.ext import commands
from rapidfuzz import fuzz, process, utils

from bot.cogs._ui import GONE_TEXT, NO_PINGS, answer_embed, answer_view

log = logging.getLogger("mythbot.help")

# Discord sends up to 6,000 typed characters per autocomplete event; fuzzy scoring costs grow with them,
# and no title is longer than this, so only the start of what is typed is read.
TYPED_MAX = 100
MAX_CHOICES = 25
AUTOCOMPLETE_SECONDS = 2.0  # Discord drops autocomplete answers after 3 s; better no suggestions than none late

HELP_TEXT = """\
**Ask me about training myths** and I'll answer with what the evidence says, how strong it is, and the studies.

• Mention me or DM me: “@Mythbot will squats fix my hip dips?”
• `/ask question:` works anywhere I can see.
• Reply to my answer with “sources?”, “why?” or “what exercises then?” to keep going.
• `/exercise name:` how to do an exercise, what it trains, the evidence. `/exercises` to browse.
• `/myth` for a random myth, or pick one by name.

I never ping anyone. Answers are general information, not medical advice: for pain or injury, see a clinician."""


class Help(commands.Cog):
    def __init__(self, bot) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="What Mythbot can do")
    async def help(self, interaction: discord.Interaction) -> None:
        embed = discord.Embed(title="Mythbot", description=HELP_TEXT, colour=discord.Colour.blurple())
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="myth", description="A random myth, or pick one by name")
    @app_commands.describe(name="leave empty for a random myth")
    async def myth(self, interaction: discord.Interaction, name: str | None = None) -> None:
        scope = self.bot.faq.scope_for(interaction.guild_id)
        engine = self.bot.engine
        myths = [m for m in engine.kb.myths if not m.retired and engine.entry(m.id, scope)]
        if not myths:
            return await interaction.response.send_message("No myths are loaded.", ephemeral=True)
        chosen = engine.entry(name, scope) if name else random.choice(myths)
        if chosen is None and name and engine.entry(name, scope, retired=True) is not None:
            return await interaction.response.send_message(GONE_TEXT, ephemeral=True, allowed_mentions=NO_PINGS)
        if chosen is None or chosen.kind != "myth":
            return await interaction.response.send_message("I don't know that myth; pick one from the list.",
                                                           ephemeral=True, allowed_mentions=NO_PINGS)
        view = engine.view(chosen.id, scope)
        await interaction.response.send_message(embed=answer_embed(view), view=answer_view(view, []),
                                                allowed_mentions=NO_PINGS)

    @myth.autocomplete("name")
    async def myth_names(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        titles = self._myth_titles(interaction.guild_id)
        try:  # bounded work, still off the event loop: a server may have hundreds of myths
            ids = await asyncio.wait_for(self.bot.workers.match(myth_choices, titles, current), AUTOCOMPLETE_SECONDS)
        except TimeoutError:
            log.info("myth autocomplete: matching is busy, no suggestions this time")
            return []
        return [app_commands.Choice(name=titles[i][:100], value=i) for i in ids]

    def _myth_titles(self, guild_id: int | None) -> dict[str, str]:
        """Titles of the myths members of this server may pick: curated and the server's own, none hidden
        here and none retired."""
        engine, scope = self.bot.engine, self.bot.faq.scope_for(guild_id)
        candidates = [*engine.kb.myths, *(scope.entries.values() if scope else ())]
        return {m.id: m.title for m in candidates if m.kind == "myth" and engine.entry(m.id, scope) is not None}


def myth_choices(titles: Mapping[str, str], typed: str, limit: int = MAX_CHOICES) -> list[str]:
    """Ids of the myths whose titles best fit what is typed, best first; only the first `TYPED_MAX`
    characters count, so the work per event is bounded whatever Discord sends."""
    typed = typed[:TYPED_MAX].strip()
    if not typed:
        return sorted(titles, key=titles.__getitem__)[:limit]
    ranked = process.extract(typed, titles, scorer=fuzz.WRatio, processor=utils.default_process, limit=limit)
    return [key for _, _, key in ranked]


async def setup(bot) -> None:
    await bot.add_cog(Help(bot))
