"""The stand-in's world (users, roles, channels, guilds) and their payloads as Discord API v10 sends them.

Payloads carry the fields discord.py 2.7 reads; optional ones Discord sends but no journey needs are left out.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

DISCORD_EPOCH_MS = 1_420_070_400_000
# How long any wait for the bot lasts before the test fails. Waits end as soon as the bot acts, so this
# only needs to be generous enough for a loaded 2-core CI machine; pytest-timeout bounds a whole test.
WAIT_TIMEOUT = 10.0
Payload = dict[str, Any]


class SnowflakeFactory:
    """Strictly increasing snowflakes whose timestamp part is 'now' (discord.py derives created_at from it)."""

    def __init__(self) -> None:
        self._last = 0

    def __call__(self) -> int:
        candidate = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(candidate, self._last + 1)
        return self._last

    def on_shard(self, shard_id: int, shard_count: int) -> int:
        """The next snowflake that, as a guild id, belongs to that shard: its timestamp part moved ahead by
        less than `shard_count` milliseconds."""
        snowflake = self()
        snowflake += ((shard_id - shard_of(snowflake, shard_count)) % shard_count) << 22
        self._last = snowflake
        return snowflake


def shard_of(guild_id: int | None, shard_count: int) -> int:
    """The shard that carries a guild's events, as Discord computes it; direct messages go to shard 0."""
    return 0 if guild_id is None else (guild_id >> 22) % shard_count


def iso_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


class Perm(enum.IntFlag):
    """The permission bits the stand-in uses (values from the Discord docs)."""

    ADMINISTRATOR = 1 << 3
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_APPLICATION_COMMANDS = 1 << 31


ALL_PERMISSIONS = (1 << 53) - 1
EVERYONE_PERMISSIONS = (
    Perm.VIEW_CHANNEL | Perm.SEND_MESSAGES | Perm.EMBED_LINKS | Perm.ATTACH_FILES | Perm.READ_MESSAGE_HISTORY
    | Perm.USE_APPLICATION_COMMANDS
)


class Intent(enum.IntFlag):
    GUILDS = 1 << 0
    GUILD_MESSAGES = 1 << 9
    DIRECT_MESSAGES = 1 << 12
    MESSAGE_CONTENT = 1 << 15


GUILD_TEXT, DM = 0, 1  # channel types


@dataclass
class FakeUser:
    id: int
    username: str
    bot: bool = False
    global_name: str | None = None

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def to_payload(self) -> Payload:
        return {"id": str(self.id), "username": self.username, "discriminator": "0", "global_name": self.global_name,
                "avatar": None, "bot": self.bot, "public_flags": 0}


@dataclass
class FakeRole:
    id: int
    name: str
    permissions: int
    position: int = 0
    managed: bool = False

    def to_payload(self) -> Payload:
        return {"id": str(self.id), "name": self.name, "permissions": str(self.permissions),
                "position": self.position, "color": 0, "hoist": False, "managed": self.managed,
                "mentionable": False, "flags": 0}


@dataclass
class FakeChannel:
    id: int
    name: str
    guild_id: int | None
    type: int = GUILD_TEXT
    position: int = 0
    recipients: list[FakeUser] = field(default_factory=list)
    # Member overwrites only (user id -> (allow, deny)); role overwrites were not needed.
    overwrites: dict[int, tuple[int, int]] = field(default_factory=dict)

    @property
    def is_dm(self) -> bool:
        return self.type == DM

    def to_payload(self) -> Payload:
        if self.is_dm:
            return {"id": str(self.id), "type": self.type, "last_message_id": None, "flags": 0,
                    "recipients": [user.to_payload() for user in self.recipients]}
        return {"id": str(self.id), "type": self.type, "guild_id": str(self.guild_id), "name": self.name,
                "position": self.position, "permission_overwrites": [
                    {"id": str(user_id), "type": 1, "allow": str(allow), "deny": str(deny)}
                    for user_id, (allow, deny) in self.overwrites.items()],
                "nsfw": False, "parent_id": None, "topic": None, "last_message_id": None, "rate_limit_per_user": 0,
                "flags": 0}


@dataclass
class FakeMember:
    user: FakeUser
    role_ids: list[int] = field(default_factory=list)
    joined_at: str = field(default_factory=iso_now)

    def to_payload(self, *, with_user: bool = True) -> Payload:
        payload: Payload = {"nick": None, "avatar": None, "roles": [str(role_id) for role_id in self.role_ids],
                            "joined_at": self.joined_at, "deaf": False, "mute": False, "flags": 0, "pending": False}
        if with_user:
            payload["user"] = self.user.to_payload()
        return payload


@dataclass
class FakeGuild:
    id: int
    name: str
    owner_id: int
    channels: list[FakeChannel] = field(default_factory=list)
    roles: list[FakeRole] = field(default_factory=list)
    members: dict[int, FakeMember] = field(default_factory=dict)
    joined_at: str = field(default_factory=iso_now)

    def role(self, name: str) -> FakeRole:
        """The role called `name` (for example "Moderator")."""
        return next(role for role in self.roles if role.name == name)

    def channel(self, name: str) -> FakeChannel:
        """The channel called `name` (for example "general")."""
        return next(channel for channel in self.channels if channel.name == name)

    def add_member(self, user: FakeUser, roles: Iterable[FakeRole] = ()) -> FakeMember:
        member = FakeMember(user=user, role_ids=[role.id for role in roles])
        self.members[user.id] = member
        return member

    def permissions(self, user_id: int, channel: FakeChannel | None = None) -> int:
        """What @everyone and the member's roles grant, then the member's overwrite in `channel` if any
        (Discord's order; role overwrites are not modelled)."""
        permissions = self._guild_permissions(user_id)
        if channel is None or permissions == ALL_PERMISSIONS or user_id not in channel.overwrites:
            return permissions
        allow, deny = channel.overwrites[user_id]
        return (permissions & ~deny) | allow

    def _guild_permissions(self, user_id: int) -> int:
        member = self.members.get(user_id)
        role_ids = {self.id, *(member.role_ids if member else [])}  # the @everyone role's id is the guild's
        permissions = 0
        for role in self.roles:
            permissions |= role.permissions if role.id in role_ids else 0
        return ALL_PERMISSIONS if user_id == self.owner_id or permissions & Perm.ADMINISTRATOR else permissions

    def to_gateway_payload(self, bot_user_id: int) -> Payload:
        """GUILD_CREATE data. Like Discord without the presence intent, only the bot's own member is listed."""
        return {
            "id": str(self.id), "name": self.name, "icon": None, "owner_id": str(self.owner_id),
            "roles": [role.to_payload() for role in self.roles], "emojis": [], "stickers": [], "features": [],
            "preferred_locale": "en-US", "system_channel_id": str(self.channels[0].id) if self.channels else None,
            "unavailable": False, "large": False, "member_count": len(self.members), "joined_at": self.joined_at,
            "channels": [channel.to_payload() for channel in self.channels], "threads": [],
            "members": [self.members[bot_user_id].to_payload()], "voice_states": [], "presences": [],
            "stage_instances": [], "guild_scheduled_events": [],
        }


MENTION_PATTERNS = {"users": re.compile(r"<@!?(\d+)>"), "roles": re.compile(r"<@&(\d+)>")}


def mentioned(content: str, allowed_mentions: Payload | None, kind: str) -> list[int]:
    """Ids of the `kind` ("users" or "roles") mentioned in `content` who really get pinged under allowed_mentions."""
    found = [int(match) for match in MENTION_PATTERNS[kind].findall(content)]
    if allowed_mentions is None or kind in allowed_mentions.get("parse", []):
        return found
    explicit = {int(value) for value in allowed_mentions.get(kind, [])}
    return [candidate for candidate in found if candidate in explicit]


def mentions_everyone(content: str, allowed_mentions: Payload | None) -> bool:
    if "@everyone" not in content and "@here" not in content:
        return False
    return allowed_mentions is None or "everyone" in allowed_mentions.get("parse", [])


def replied_user_pinged(allowed_mentions: Payload | None) -> bool:
    # Without allowed_mentions a reply pings its author; with it, only if replied_user is true.
    return allowed_mentions is None or bool(allowed_mentions.get("replied_user", False))
