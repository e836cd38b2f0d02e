"""/help and /myth (a random myth, or one picked from the list)."""

import random

import discord
from discord import app_commands
from discord.ext import commands
from rapidfuzz import fuzz, process

from bot.cogs._ui import GONE_TEXT, NO_PINGS, answer_embed, answer_view

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
        scope = self.bot.scopes.scope_for(interaction.guild_id)
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
        myths = {m.id: m.title for m in self.bot.engine.kb.myths if not m.retired}
        if current.strip():
            ranked = process.extract(current, myths, scorer=fuzz.WRatio, limit=25)
            ids = [key for _, _, key in ranked]
        else:
            ids = sorted(myths, key=myths.get)[:25]
        return [app_commands.Choice(name=myths[i][:100], value=i) for i in ids]


async def setup(bot) -> None:
    await bot.add_cog(Help(bot))
