"""/help and /myth (a random myth, or one picked from the list)."""

import asyncio
import logging
import random

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs._errors import NO_PINGS, guarded_autocomplete
from bot.cogs._ui import GONE_TEXT, MAX_CHOICES, answer_embed, answer_view, choices, knowledge_for
from bot.discord_app import MythBot
from bot.engine.schema import MythEntry

log = logging.getLogger("mythbot.help")

AUTOCOMPLETE_SECONDS = 2.0  # Discord drops autocomplete answers after 3 s; better no suggestions than none late

HELP_TEXT = """\
**Ask me about training myths** and I'll answer with what the evidence says, how strong it is, and the studies.

• Mention me or DM me: “@Mythbot will squats fix my hip dips?”
• `/ask question:` works anywhere I can see.
• Reply to my answer with “sources?”, “why?” or “what exercises then?” to keep going.
• `/exercise name:` how to do an exercise, what it trains, the evidence. `/exercises` to browse.
• `/myth` for a random myth, or pick one by name.
• Not what you meant? Press **Not what I asked**, or ask again in other words. \
Questions I miss are kept a while for this server's moderators, so they can teach me.

I never ping anyone. Answers are general information, not medical advice: for pain or injury, see a clinician."""


class Help(commands.Cog):
    def __init__(self, bot: MythBot) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="What Mythbot can do")
    async def help(self, interaction: discord.Interaction) -> None:
        embed = discord.Embed(title="Mythbot", description=HELP_TEXT, colour=discord.Colour.blurple())
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="myth", description="A random myth, or pick one by name")
    @app_commands.describe(name="leave empty for a random myth")
    async def myth(self, interaction: discord.Interaction, name: str | None = None) -> None:
        knowledge = knowledge_for(interaction)
        myths = knowledge.myths()
        chosen = knowledge.entry(name) if name else random.choice(myths) if myths else None
        view = knowledge.view(chosen.id) if isinstance(chosen, MythEntry) else None
        if view is not None:
            await interaction.response.send_message(embed=answer_embed(view), view=answer_view(view, []),
                                                    allowed_mentions=NO_PINGS)
            return
        if not myths:
            text = "No myths are loaded."
        elif name and knowledge.gone(name):
            text = GONE_TEXT
        else:
            text = "I don't know that myth; pick one from the list."
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)

    @myth.autocomplete("name")
    @guarded_autocomplete
    async def myth_names(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        knowledge = knowledge_for(interaction)
        try:  # bounded work, still off the event loop: a server may have hundreds of myths
            found = await asyncio.wait_for(self.bot.workers.match(knowledge.myth_choices, current, MAX_CHOICES),
                                           AUTOCOMPLETE_SECONDS)
        except TimeoutError:
            log.info("myth autocomplete: matching is busy, no suggestions this time")
            return []
        return choices(found)


async def setup(bot: MythBot) -> None:
    await bot.add_cog(Help(bot))
