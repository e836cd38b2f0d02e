"""Answering: mentions, DMs, replies to our answers, passive listening in chosen channels, and /ask."""

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs._errors import NO_PINGS, given, message_failed, send_reply
from bot.cogs._ui import (
    GONE_TEXT,
    knowledge_for,
    more_embed,
    related_exercises_text,
    reply_parts,
    sources_embed,
)
from bot.discord_app import MythBot
from bot.engine.conversation import follow_up_intent
from bot.engine.cooldowns import Cooldowns, FloodLimit
from bot.engine.engine import GuildKnowledge, Reply
from bot.engine.question_shape import looks_like_question

log = logging.getLogger("mythbot.answers")

TriggerKind = Literal["dm", "mention", "reply", "passive"]
QUESTION_MAX_CHARS = 2000
FLOOD_REPLIES, FLOOD_WINDOW = 5, 60.0
# Mentions, DMs and replies answered per channel in any window (passive listening has its own cooldowns).
# Past it, one short busy notice per window, then silence: a raid is not amplified into the channel, and
# Discord's per-channel rate limit never queues minutes of stale answers ahead of everyone else's.
CHANNEL_REPLIES, CHANNEL_WINDOW = 10, 60.0
GUILD_REPLIES = 30  # the same across all of a server's channels, so a raid spread over channels is capped too
STALE_AFTER = 60.0  # seconds after which an answer still waiting to be sent is dropped, not sent late
BUSY_TEXT = ("Lots of questions in this channel right now, so I'm pausing here for a minute. "
             "`/ask` still works, or try me again shortly.")
SERVER_BUSY_TEXT = ("Lots of questions across this server right now, so I'm pausing for a minute. "
                    "`/ask` still works, or try me again shortly.")
SLOW_DOWN_TEXT = "You're asking faster than I can keep up; try again in a minute."
# /ask answers in one response when matching is done by then, else it defers first: Discord drops an
# interaction that is not acknowledged within 3 s, and a busy matching pool can take longer than that.
ASK_AT_ONCE_SECONDS = 1.5
_ENTRY_IN_CUSTOM_ID = re.compile(r"^mythbot:(?:src|vote:[01]):([a-z0-9-]+)$")


@dataclass(frozen=True)
class Trigger:
    kind: TriggerKind
    question: str


def strip_mentions(content: str, my_id: int) -> str:
    return re.sub(rf"<@!?{my_id}>", " ", content).strip()


def only_mass_ping(content: str) -> bool:
    return not re.sub(r"@everyone|@here|<@&\d+>", " ", content).strip()


_CUSTOM_EMOJI = re.compile(r"<a?:\w+:\d+>")
_THANKS_WORDS = frozenset({
    "thanks", "thank", "thx", "thnx", "tx", "ty", "tysm", "tyvm", "ta", "cheers", "appreciate", "appreciated",
    "ok", "okay", "k", "kk", "alright", "cool", "nice", "great", "awesome", "perfect", "gotcha", "noted", "sweet",
    "neat", "wow", "lol", "haha", "yes", "yep", "yeah", "sure", "good",
})
_FILLER_WORDS = frozenset({
    "you", "u", "so", "much", "very", "a", "lot", "it", "got", "makes", "sense", "that", "one", "for", "the", "info",
    "bot", "mythbot", "man", "mate", "really",
})
ACKNOWLEDGEMENT_MAX_WORDS = 8


def is_acknowledgement(text: str) -> bool:
    """Thanks, "ok", "cool", 👍 and the like: not a question, so nothing to answer or record."""
    if not text.strip():
        return False
    words = re.findall(r"\w+", _CUSTOM_EMOJI.sub(" ", text).casefold())
    if not words:  # only emoji or punctuation: 👍, 🙏, ❤️, a server's own emoji, "!!"
        return True
    return (len(words) <= ACKNOWLEDGEMENT_MAX_WORDS and any(word in _THANKS_WORDS for word in words)
            and all(word in _THANKS_WORDS or word in _FILLER_WORDS for word in words))


def classify(content: str, *, my_id: int, author_is_bot: bool, in_dm: bool, mentions_me: bool,
             replying_to_me: bool, channel_id: int, listen_channels: tuple[int, ...]) -> Trigger | None:
    """Whether and why to answer a message; None means stay silent."""
    question = strip_mentions(content, my_id)[:QUESTION_MAX_CHARS]
    if author_is_bot or only_mass_ping(content) or is_acknowledgement(question):
        return None
    if in_dm:
        return Trigger("dm", question) if question else None
    if replying_to_me:
        return Trigger("reply", question) if question else None
    if mentions_me:
        return Trigger("mention", question)
    if channel_id in listen_channels and looks_like_question(content):
        return Trigger("passive", question)
    return None


def entry_of_bot_message(message: discord.Message | None) -> str | None:
    """The entry an earlier answer of ours was about, read from its buttons' custom ids."""
    if message is None:
        return None
    for row in message.components:
        for child in getattr(row, "children", ()):
            found = _ENTRY_IN_CUSTOM_ID.match(getattr(child, "custom_id", None) or "")
            if found:
                return found.group(1)
    return None


class Answering(commands.Cog):
    def __init__(self, bot: MythBot) -> None:
        self.bot = bot
        self.cooldowns = Cooldowns()
        self.flood = FloodLimit(FLOOD_REPLIES, FLOOD_WINDOW)
        self.channel_replies = FloodLimit(CHANNEL_REPLIES, CHANNEL_WINDOW)
        self.guild_replies = FloodLimit(GUILD_REPLIES, CHANNEL_WINDOW)
        self.clock = time.monotonic  # when each message arrived, to drop answers that come too late

    # -- messages -------------------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        me = self.bot.user
        if me is None or message.author.id == me.id:
            return
        referenced = message.reference.resolved if message.reference else None
        replying_to_me = isinstance(referenced, discord.Message) and referenced.author.id == me.id
        trigger = classify(
            message.content, my_id=me.id, author_is_bot=message.author.bot or message.webhook_id is not None,
            in_dm=message.guild is None, mentions_me=me in message.mentions, replying_to_me=replying_to_me,
            channel_id=message.channel.id, listen_channels=self.bot.settings.listen_channels,
        )
        if trigger is None:
            return
        try:
            await self._respond(message, trigger, referenced)
        except Exception as error:  # the error policy: one log line; an apology if the member addressed us
            await message_failed(message, error, apologise=trigger.kind != "passive")

    async def _respond(self, message: discord.Message, trigger: Trigger, referenced: object) -> None:
        received = self.clock()
        if not self.flood.allow(message.author.id):
            log.info("flood limit: not answering user %s in channel %s", message.author.id, message.channel.id)
            return
        if trigger.kind != "passive" and not await self._channel_has_room(message):
            return
        knowledge = self.bot.knowledge_for(message.guild.id if message.guild else None)
        if trigger.kind in {"reply", "dm", "mention"} and await self._follow_up(knowledge, message, trigger,
                                                                               referenced):
            return
        await self._answer_message(knowledge, message, trigger, received)

    async def _channel_has_room(self, message: discord.Message) -> bool:
        """Within the channel's and the server's caps of answers per window; past one, one busy notice per
        window in this channel, then silence."""
        channel_id = message.channel.id
        busy = self._busy(channel_id, message.guild.id if message.guild else None)
        if busy is None:
            return True
        log.info("%s cap: not answering user %s in channel %s", "channel" if busy == BUSY_TEXT else "server",
                 message.author.id, channel_id)
        if self.cooldowns.ready(("busy", channel_id), CHANNEL_WINDOW):
            self.cooldowns.touch(("busy", channel_id))
            await send_reply(message, content=busy)
        return False

    def _busy(self, channel_id: int | None, guild_id: int | None) -> str | None:
        """None if one more public answer fits the channel's and the server's caps (and count it); else why not."""
        if not self.channel_replies.allow(channel_id):
            return BUSY_TEXT
        if guild_id is not None and not self.guild_replies.allow(guild_id):
            return SERVER_BUSY_TEXT
        return None

    async def _follow_up(self, knowledge: GuildKnowledge, message: discord.Message, trigger: Trigger,
                         referenced: object) -> bool:
        intent = follow_up_intent(trigger.question)
        if intent is None:
            return False
        earlier = referenced if trigger.kind == "reply" and isinstance(referenced, discord.Message) else None
        entry_id = entry_of_bot_message(earlier) or self.bot.conversations.recall(message.author.id,
                                                                                  message.channel.id)
        if entry_id is None:
            return False
        view = knowledge.view(entry_id)
        if view is None:  # retired or hidden since: gone for members, whatever the old answer showed
            await send_reply(message, content=GONE_TEXT)
            return True
        if intent == "sources":
            await send_reply(message, embed=sources_embed(view))
        elif intent == "more":
            await send_reply(message, embed=more_embed(view))
        else:
            await send_reply(message, content=related_exercises_text(knowledge, view))
        self.bot.conversations.remember(message.author.id, message.channel.id, entry_id)
        return True

    async def _answer_message(self, knowledge: GuildKnowledge, message: discord.Message, trigger: Trigger,
                              received: float) -> None:
        passive = trigger.kind == "passive"
        channel_id = message.channel.id
        if passive and not self._passive_allowed(message.author.id, channel_id):
            return
        started = time.perf_counter()
        reply = await self._ask(knowledge, trigger.question, passive=passive)
        result = reply.result
        if passive and (result.status != "answer" or not self.cooldowns.ready(
                ("entry", channel_id, result.entry), self.bot.settings.entry_cooldown)):
            return
        if not passive:
            self._record_if_unanswered(reply, message.guild.id if message.guild else None, channel_id)
        waited = self.clock() - received
        if waited > STALE_AFTER:
            log.info("dropping a stale answer to user %s in channel %s (waited %.0f s)", message.author.id,
                     channel_id, waited)
            return
        guild_id = message.guild.id if message.guild else None
        content, embed, view = reply_parts(knowledge, reply, message.author.id)
        if await send_reply(message, content=content, embed=embed, view=view):
            self._record_decision(reply, guild_id, channel_id, message.author.id)
            self._after_answer(reply, message.author.id, channel_id, passive)
        self._log(reply, message.guild, channel_id, trigger.kind, started)

    def _passive_allowed(self, user_id: int, channel_id: int) -> bool:
        settings = self.bot.settings
        return (self.cooldowns.ready(("channel", channel_id), settings.channel_cooldown)
                and self.cooldowns.ready(("user", user_id), settings.user_cooldown))

    def _after_answer(self, reply: Reply, user_id: int, channel_id: int, passive: bool) -> None:
        entry_id = reply.result.entry
        if reply.result.status != "answer" or entry_id is None:
            return
        self.bot.conversations.remember(user_id, channel_id, entry_id)
        self.cooldowns.touch(("user", user_id))
        if passive:
            self.cooldowns.touch(("channel", channel_id))
            self.cooldowns.touch(("entry", channel_id, entry_id))

    # -- /ask -----------------------------------------------------------------------------------------

    @app_commands.command(name="ask", description="Ask an evidence-based question about training, bodies or myths")
    @app_commands.describe(question="e.g. will squats fix my hip dips?")
    async def ask(self, interaction: discord.Interaction[MythBot], question: app_commands.Range[str, 1, 500]) -> None:
        started = time.perf_counter()
        guild = interaction.guild
        if not self.flood.allow(interaction.user.id):
            await interaction.response.send_message(SLOW_DOWN_TEXT, ephemeral=True, allowed_mentions=NO_PINGS)
            return
        # A busy channel or server still gets its answer, privately: /ask never adds to a raid's noise.
        public = self._busy(interaction.channel_id, interaction.guild_id) is None
        knowledge = knowledge_for(interaction)
        matching = asyncio.ensure_future(self._ask(knowledge, question, passive=False))
        done, _ = await asyncio.wait({matching}, timeout=ASK_AT_ONCE_SECONDS)
        if not done:
            await interaction.response.defer(thinking=True, ephemeral=not public)
        reply = await matching
        self._record_if_unanswered(reply, interaction.guild_id, interaction.channel_id)
        # The member's text is never repeated (it may carry invite links or scam text to launder), and a
        # "no answer" or "did you mean" concerns only the asker: private, unless a deferral already made
        # the reply public.
        content, embed, view = reply_parts(knowledge, reply, interaction.user.id)
        if interaction.response.is_done():
            await interaction.followup.send(given(content), embed=given(embed), view=given(view),
                                            ephemeral=not public, allowed_mentions=NO_PINGS)
        else:
            private = reply.result.status != "answer" or not public
            await interaction.response.send_message(content, embed=given(embed), view=given(view), ephemeral=private,
                                                    allowed_mentions=NO_PINGS)
        self._record_decision(reply, interaction.guild_id, interaction.channel_id, interaction.user.id)
        self._after_answer(reply, interaction.user.id, interaction.channel_id or 0, passive=False)
        self._log(reply, guild, interaction.channel_id, "slash", started)

    # -- shared ---------------------------------------------------------------------------------------

    async def _ask(self, knowledge: GuildKnowledge, question: str, *, passive: bool) -> Reply:
        # Matching is CPU work: off the event loop, in its own bounded pool (see bot/workers.py).
        return await self.bot.workers.match(knowledge.ask, question, passive=passive)

    def _record_if_unanswered(self, reply: Reply, guild_id: int | None, channel_id: int | None) -> None:
        """Note a question nobody could answer, for the moderators' gaps report. In the background: a locked
        or full database loses the record, never the member's reply, and never blocks the event loop."""
        result = reply.result
        if result.status != "none":
            return
        best = result.alternatives[0].entry if result.alternatives else None
        self.bot.workers.record_soon("an unanswered question", self.bot.records.record_unanswered, guild_id,
                                     channel_id, result.question, best, result.score)

    def _record_decision(self, reply: Reply, guild_id: int | None, channel_id: int | None, member_id: int) -> None:
        """What the bot replied with (answer, did-you-mean or no answer), for `/faq stats`; in the background,
        like every record. Passive messages it stayed silent on are not decisions. Members' suggestions
        (`bot.cogs.faq.suggest`) hear of it as the `mythbot_reply` event."""
        result = reply.result
        self.bot.workers.record_soon("a decision", self.bot.records.record_decision, guild_id, channel_id,
                                     result.status, result.entry, result.score)
        self.bot.dispatch("mythbot_reply", guild_id, channel_id, member_id, reply)

    @staticmethod
    def _log(reply: Reply, guild: discord.Guild | None, channel_id: int | None, via: str, started: float) -> None:
        result = reply.result
        log.info("answer via=%s guild=%s channel=%s status=%s entry=%s score=%.1f latency_ms=%.1f", via,
                 guild.id if guild else None, channel_id, result.status, result.entry, result.score,
                 (time.perf_counter() - started) * 1000)


async def setup(bot: MythBot) -> None:
    await bot.add_cog(Answering(bot))
