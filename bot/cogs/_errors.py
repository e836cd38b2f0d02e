"""One error policy for everything members and moderators use in Discord.

When something fails on our side (a bug, a database that raises, Discord refusing a request mid-way):

- the member gets one short private apology (`APOLOGY`): the response if nothing was sent yet, otherwise a
  follow-up; an autocomplete gets no suggestions. Never two: an interaction is marked once handled.
- the operator gets exactly one ERROR line with the traceback, naming what failed (`/faq gaps`,
  `button mythbot:src:…`, `form mythbot:faq:…`, `autocomplete of /myth`, the `on_message` listener) and
  the guild, channel and user.

It is applied through discord.py's own hooks, so a new command or button gets it without doing anything:

- slash commands: `MythTree.on_error` (`bot.discord_app`, the bot's `tree_cls`);
- autocomplete callbacks (discord.py 2.7 logs their errors without any hook): `@guarded_autocomplete`;
- buttons that survive restarts: subclass `GuardedButton` and write `clicked` (and `allowed` for a check);
- views and forms: subclass `GuardedView` / `GuardedModal`;
- listeners: `MythBot.on_error`, discord.py's hook for every event handler.

A message is not an interaction: when answering one fails, the member who addressed the bot (mention, DM,
reply) gets the apology as a reply, pinging nobody, and passive listening stays silent
(`message_failed`). A reply Discord refuses (Forbidden, a 5xx) is one WARNING line, never a traceback:
members could otherwise fill the log at will.
"""

import asyncio
import functools
import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, ParamSpec, TypeVar

import discord
from discord import app_commands

log = logging.getLogger("mythbot.errors")

NO_PINGS = discord.AllowedMentions.none()  # every message the bot sends; `_ui` and the cogs use it from there
APOLOGY = "Something went wrong on my side; it's been logged."
_HANDLED = "mythbot:failure-handled"  # in Interaction.extras: this interaction's failure was logged and answered
_NOTHING = r"(?!)"  # a template no custom_id matches: GuardedButton itself is never registered

P = ParamSpec("P")
T = TypeVar("T")
ChoiceT = TypeVar("ChoiceT", str, int, float)  # what an autocomplete may suggest


def given(value: T | None) -> T:
    """`value`, or discord.py's "not given" (`MISSING`) for None: its stubs type optional arguments as the
    value itself, and passing None for some of them means "remove" (an embed, a view)."""
    return value if value is not None else discord.utils.MISSING


def custom_id_of(interaction: discord.Interaction[Any]) -> str:
    """The custom_id of a button or form interaction; "" for other kinds."""
    data: Mapping[str, object] = interaction.data or {}
    value = data.get("custom_id")
    return value if isinstance(value, str) else ""


def what_failed(interaction: discord.Interaction[Any]) -> str:
    """What the member used, as the operator reads it in the log."""
    command = interaction.command
    name = f"/{command.qualified_name}" if command is not None else "a slash command"
    if interaction.type is discord.InteractionType.autocomplete:
        return f"autocomplete of {name}"
    if interaction.type is discord.InteractionType.component:
        data: Mapping[str, object] = interaction.data or {}
        kind = "button" if data.get("component_type") == discord.ComponentType.button.value else "menu"
        return f"{kind} {custom_id_of(interaction)}"
    if interaction.type is discord.InteractionType.modal_submit:
        return f"form {custom_id_of(interaction)}"
    return name


def where(interaction: discord.Interaction[Any]) -> str:
    return f"guild={interaction.guild_id} channel={interaction.channel_id} user={interaction.user.id}"


async def interaction_failed(interaction: discord.Interaction[Any], error: BaseException) -> None:
    """The policy for one interaction: one log line with the traceback, one private apology."""
    if interaction.extras.get(_HANDLED):
        return
    interaction.extras[_HANDLED] = True
    log.error("%s failed (%s)", what_failed(interaction), where(interaction), exc_info=error)
    if interaction.type is discord.InteractionType.autocomplete:
        return  # no message can answer an autocomplete: the member sees no suggestions
    try:
        if interaction.response.is_done():
            await interaction.followup.send(APOLOGY, ephemeral=True, allowed_mentions=NO_PINGS)
        else:
            await interaction.response.send_message(APOLOGY, ephemeral=True, allowed_mentions=NO_PINGS)
    except discord.HTTPException as refused:  # expired, or Discord is failing too: the log line says enough
        log.warning("could not apologise for %s (%s): %s", what_failed(interaction), where(interaction), refused)


async def command_failed(interaction: discord.Interaction[Any], error: app_commands.AppCommandError) -> None:
    """`CommandTree.on_error`: a failed check has answered for itself (a refusal); the rest is our failure."""
    if isinstance(error, app_commands.CheckFailure):
        return
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    await interaction_failed(interaction, original)


Suggestions = Coroutine[Any, Any, list[app_commands.Choice[ChoiceT]]]


def guarded_autocomplete(suggest: Callable[P, Suggestions[ChoiceT]]) -> Callable[P, Suggestions[ChoiceT]]:
    """An autocomplete callback under the policy: on failure one log line and no suggestions (discord.py
    2.7 logs autocomplete errors itself, outside `tree.on_error`)."""

    @functools.wraps(suggest)
    async def guarded(*args: P.args, **kwargs: P.kwargs) -> list[app_commands.Choice[ChoiceT]]:
        try:
            return await suggest(*args, **kwargs)
        except Exception as error:
            interaction = next(arg for arg in args if isinstance(arg, discord.Interaction))
            await interaction_failed(interaction, error)
            return []

    return guarded


class _Guarded:
    """The check and the callback of a component that survives restarts, under the policy."""

    async def allowed(self, interaction: discord.Interaction[Any], /) -> bool:
        return True

    async def clicked(self, interaction: discord.Interaction[Any], /) -> None:
        raise NotImplementedError

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        try:
            return await self.allowed(interaction)
        except Exception as error:  # discord.py would take it as a silent "no"
            await interaction_failed(interaction, error)
            return False

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await self.clicked(interaction)
        except Exception as error:  # discord.py would only log it
            await interaction_failed(interaction, error)


class GuardedButton(_Guarded, discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=_NOTHING):
    """A button that survives restarts (its state in the custom_id), under the policy. Subclasses pass their
    own `template`, write `clicked` and, when only some members may click, `allowed` (which answers
    those refused)."""


class GuardedSelect(_Guarded, discord.ui.DynamicItem[discord.ui.Select[discord.ui.View]], template=_NOTHING):
    """A select menu that survives restarts, under the policy: as `GuardedButton`, with `chosen` given the
    values picked."""

    async def chosen(self, interaction: discord.Interaction[Any], values: list[str], /) -> None:
        raise NotImplementedError

    async def clicked(self, interaction: discord.Interaction[Any], /) -> None:
        await self.chosen(interaction, list(self.item.values))


class GuardedView(discord.ui.View):
    async def on_error(self, interaction: discord.Interaction[Any], error: Exception,
                       item: discord.ui.Item[Any], /) -> None:
        await interaction_failed(interaction, error)


class GuardedModal(discord.ui.Modal):
    # `item` is never passed to a modal's on_error; it keeps the signature that of View's too, as
    # discord.py's stubs type Modal.on_error by its base class.
    async def on_error(self, interaction: discord.Interaction[Any], error: Exception,
                       item: discord.ui.Item[Any] | None = None, /) -> None:
        await interaction_failed(interaction, error)


async def listener_failed(event: str, args: tuple[object, ...], error: BaseException | None) -> None:
    """`Client.on_error`: a listener raised. An interaction gets the policy; anything else one log line."""
    subject = args[0] if args else None
    if isinstance(subject, discord.Interaction):
        await interaction_failed(subject, error or RuntimeError(f"{event} failed"))
    elif isinstance(subject, discord.Message):
        log.error("the %s listener failed (%s)", event, message_where(subject), exc_info=error)
    else:
        log.error("the %s listener failed", event, exc_info=error)


def message_where(message: discord.Message) -> str:
    return f"guild={message.guild.id if message.guild else None} channel={message.channel.id}"


async def message_failed(message: discord.Message, error: BaseException, *, apologise: bool) -> None:
    """Answering a message failed: one log line; the apology as a reply when the member addressed the bot."""
    log.error("answering a message failed (%s author=%s)", message_where(message), message.author.id, exc_info=error)
    if apologise:
        await send_reply(message, content=APOLOGY)


RETRIED_BY_DISCORD_PY = frozenset({500, 502, 504, 524})  # discord.py retries these itself, several times
SEND_RETRY_DELAY = 1.0


async def send_reply(message: discord.Message, *, content: str | None = None, embed: discord.Embed | None = None,
                     view: discord.ui.View | None = None) -> bool:
    """Reply to a member's message, pinging nobody; whether it was sent.

    A question deleted meanwhile is answered without the reply link. A server error discord.py does not
    retry itself (a 503) is retried once. Whatever still fails is one WARNING line naming guild and
    channel, never a traceback (members could otherwise fill the log with them at will)."""
    reference = message.to_reference(fail_if_not_exists=False)
    for attempt in (1, 2):
        try:
            await message.channel.send(content, embed=given(embed), view=given(view), reference=reference,
                                       allowed_mentions=NO_PINGS)
            return True
        except discord.Forbidden as refused:
            log.warning("cannot answer in %s: %s", message_where(message), refused.text or refused.status)
            return False
        except discord.RateLimited as limited:  # longer than the bot's MAX_RATELIMIT_WAIT: given up, not parked
            log.warning("could not answer in %s: Discord rate-limits it for %.0f s", message_where(message),
                        limited.retry_after)
            return False
        except discord.HTTPException as failed:
            if attempt == 1 and failed.status >= 500 and failed.status not in RETRIED_BY_DISCORD_PY:
                await asyncio.sleep(SEND_RETRY_DELAY)
                continue
            log.warning("could not answer in %s: Discord said %s %s", message_where(message), failed.status,
                        failed.text)
            return False
    return False
