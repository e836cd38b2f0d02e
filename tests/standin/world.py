"""Entities of the fake Discord world (users, guilds, channels) and their wire payloads.

Payload shapes follow Discord API v10 as discord.py 2.7 parses them.
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

DISCORD_EPOCH_MS = 1_420_070_400_000
Payload = dict[str, Any]


class SnowflakeFactory:
    """Generates strictly increasing snowflakes whose timestamp part is 'now'."""

    def __init__(self) -> None:
        self._last = 0

    def __call__(self) -> int:
        candidate = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(candidate, self._last + 1)
        return self._last


def iso_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


class Perm(enum.IntFlag):
    """The permission bits the stand-in cares about (values from the Discord docs)."""

    ADMINISTRATOR = 1 << 3
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    USE_APPLICATION_COMMANDS = 1 << 31
    SEND_MESSAGES_IN_THREADS = 1 << 38


ALL_PERMISSIONS = (1 << 53) - 1

EVERYONE_PERMISSIONS = (
    Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.ADD_REACTIONS
    | Perm.USE_EXTERNAL_EMOJIS
    | Perm.USE_APPLICATION_COMMANDS
    | Perm.SEND_MESSAGES_IN_THREADS
)


class Intent(enum.IntFlag):
    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_MESSAGES = 1 << 9
    GUILD_MESSAGE_REACTIONS = 1 << 10
    DIRECT_MESSAGES = 1 << 12
    DIRECT_MESSAGE_REACTIONS = 1 << 13
    MESSAGE_CONTENT = 1 << 15


class ChannelType(enum.IntEnum):
    GUILD_TEXT = 0
    DM = 1


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
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "bot": self.bot,
            "system": False,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "primary_guild": None,
            "collectibles": None,
        }


@dataclass
class FakeRole:
    id: int
    name: str
    permissions: int
    position: int = 0
    managed: bool = False

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    def to_payload(self) -> Payload:
        return {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": self.managed,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }


@dataclass
class Overwrite:
    """A channel permission overwrite; kind 0 = role, 1 = member."""

    target_id: int
    kind: int
    allow: int = 0
    deny: int = 0

    def to_payload(self) -> Payload:
        return {
            "id": str(self.target_id),
            "type": self.kind,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


@dataclass
class FakeChannel:
    id: int
    name: str
    guild_id: int | None
    type: int = ChannelType.GUILD_TEXT
    position: int = 0
    topic: str | None = None
    overwrites: list[Overwrite] = field(default_factory=list)
    recipients: list[FakeUser] = field(default_factory=list)

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    @property
    def is_dm(self) -> bool:
        return self.type == ChannelType.DM

    def to_payload(self) -> Payload:
        if self.is_dm:
            return {
                "id": str(self.id),
                "type": self.type,
                "last_message_id": None,
                "flags": 0,
                "recipients": [user.to_payload() for user in self.recipients],
            }
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [o.to_payload() for o in self.overwrites],
            "nsfw": False,
            "parent_id": None,
            "topic": self.topic,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }


@dataclass
class FakeMember:
    user: FakeUser
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=iso_now)

    def to_payload(self, *, with_user: bool = True) -> Payload:
        payload: Payload = {
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "roles": [str(role_id) for role_id in self.role_ids],
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
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

    @property
    def everyone_role(self) -> FakeRole:
        return self.role_by_id(self.id)

    def role_by_id(self, role_id: int) -> FakeRole:
        return next(role for role in self.roles if role.id == role_id)

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

    def base_permissions(self, user_id: int) -> int:
        if user_id == self.owner_id:
            return ALL_PERMISSIONS
        member = self.members.get(user_id)
        role_ids = member.role_ids if member else []
        permissions = self.everyone_role.permissions
        for role_id in role_ids:
            permissions |= self.role_by_id(role_id).permissions
        if permissions & Perm.ADMINISTRATOR:
            return ALL_PERMISSIONS
        return permissions

    def permissions_in(self, channel: FakeChannel, user_id: int) -> int:
        """Discord's algorithm: base permissions, then @everyone, role and member overwrites."""
        permissions = self.base_permissions(user_id)
        if permissions == ALL_PERMISSIONS:
            return permissions
        member = self.members.get(user_id)
        role_ids = set(member.role_ids) if member else set()
        by_target = {overwrite.target_id: overwrite for overwrite in channel.overwrites}
        everyone = by_target.get(self.id)
        if everyone:
            permissions = (permissions & ~everyone.deny) | everyone.allow
        role_allow = role_deny = 0
        for overwrite in channel.overwrites:
            if overwrite.kind == 0 and overwrite.target_id in role_ids:
                role_allow |= overwrite.allow
                role_deny |= overwrite.deny
        permissions = (permissions & ~role_deny) | role_allow
        member_overwrite = by_target.get(user_id)
        if member_overwrite and member_overwrite.kind == 1:
            permissions = (permissions & ~member_overwrite.deny) | member_overwrite.allow
        return permissions

    def to_partial_payload(self) -> Payload:
        return {"id": str(self.id), "locale": "en-US", "features": []}

    def to_rest_payload(self) -> Payload:
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "region": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "system_channel_id": str(self.channels[0].id) if self.channels else None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "widget_enabled": False,
            "widget_channel_id": None,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "en-US",
            "vanity_url_code": None,
            "features": [],
            "roles": [role.to_payload() for role in self.roles],
            "emojis": [],
            "stickers": [],
            "max_members": 500_000,
            "max_presences": None,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "application_id": None,
            "incidents_data": None,
        }

    def to_gateway_payload(self, bot_user_id: int) -> Payload:
        """GUILD_CREATE data. Like real Discord without the presence intent, only the bot's
        own member is included; the full list comes from member chunking (op 8)."""
        payload = self.to_rest_payload()
        bot_member = self.members.get(bot_user_id)
        payload.update(
            unavailable=False,
            large=False,
            member_count=len(self.members),
            joined_at=self.joined_at,
            channels=[channel.to_payload() for channel in self.channels],
            threads=[],
            members=[bot_member.to_payload()] if bot_member else [],
            voice_states=[],
            presences=[],
            stage_instances=[],
            guild_scheduled_events=[],
            soundboard_sounds=[],
        )
        return payload


USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")


def parse_user_mentions(content: str) -> list[int]:
    return [int(match) for match in USER_MENTION.findall(content or "")]


def parse_role_mentions(content: str) -> list[int]:
    return [int(match) for match in ROLE_MENTION.findall(content or "")]


def allowed_mention_ids(
    candidates: list[int], allowed_mentions: Payload | None, parse_key: str, list_key: str
) -> list[int]:
    """Which of `candidates` really get pinged under Discord's allowed_mentions rules."""
    if allowed_mentions is None:
        return candidates
    if parse_key in allowed_mentions.get("parse", []):
        return candidates
    explicit = {int(value) for value in allowed_mentions.get(list_key, [])}
    return [candidate for candidate in candidates if candidate in explicit]


def mentions_everyone(content: str, allowed_mentions: Payload | None) -> bool:
    if "@everyone" not in (content or "") and "@here" not in (content or ""):
        return False
    return allowed_mentions is None or "everyone" in allowed_mentions.get("parse", [])


def replied_user_pinged(allowed_mentions: Payload | None) -> bool:
    # Without allowed_mentions a reply pings its author; with it, only if replied_user is true.
    if allowed_mentions is None:
        return True
    return bool(allowed_mentions.get("replied_user", False))


def unique(values: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(values))


def chain_unique(*groups: Iterable[int]) -> list[int]:
    return unique(itertools.chain(*groups))
