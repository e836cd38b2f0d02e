"""Discord's documented limits, checked the way the real API checks them (400 Invalid Form Body).

Only limits a bot can realistically hit are checked; each returns a list of human-readable errors.
"""

from __future__ import annotations

import re
from typing import Any

from .world import Payload

MESSAGE_CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TOTAL_MAX = 6000
EMBED_LIMITS = {"title": 256, "description": 4096}
EMBED_FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_TEXT_MAX = 2048
AUTHOR_NAME_MAX = 256
ACTION_ROWS_MAX = 5
ROW_ITEMS_MAX = 5
CUSTOM_ID_MAX = 100
BUTTON_LABEL_MAX = 80
SELECT_OPTIONS_MAX = 25
AUTOCOMPLETE_CHOICES_MAX = 25
CHOICE_NAME_MAX = 100
MODAL_TITLE_MAX = 45
COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")
COMMAND_DESCRIPTION_MAX = 100
COMMANDS_MAX = 100
FLAG_EPHEMERAL = 1 << 6
FLAG_COMPONENTS_V2 = 1 << 15
ALLOWED_MESSAGE_FLAGS = (1 << 2) | FLAG_EPHEMERAL | (1 << 12) | FLAG_COMPONENTS_V2


def message_errors(body: Payload | None) -> list[str]:
    body = body or {}
    errors: list[str] = []
    content = body.get("content") or ""
    if len(content) > MESSAGE_CONTENT_MAX:
        errors.append(f"content: must be {MESSAGE_CONTENT_MAX} or fewer in length (got {len(content)})")
    embeds = body.get("embeds") or []
    if len(embeds) > EMBEDS_MAX:
        errors.append(f"embeds: must be {EMBEDS_MAX} or fewer in length")
    errors.extend(embed_errors(embeds))
    errors.extend(
        component_errors(body.get("components") or [], v2=bool((body.get("flags") or 0) & FLAG_COMPONENTS_V2))
    )
    flags = body.get("flags") or 0
    if flags & ~ALLOWED_MESSAGE_FLAGS:
        errors.append(f"flags: unsupported message flags {flags}")
    return errors


def is_empty_message(body: Payload | None, *, has_files: bool) -> bool:
    body = body or {}
    return not (
        body.get("content")
        or body.get("embeds")
        or body.get("components")
        or body.get("sticker_ids")
        or body.get("poll")
        or has_files
    )


def embed_errors(embeds: list[Payload]) -> list[str]:
    errors: list[str] = []
    total = 0
    for index, embed in enumerate(embeds):
        where = f"embeds[{index}]"
        for key, limit in EMBED_LIMITS.items():
            value = embed.get(key) or ""
            total += len(value)
            if len(value) > limit:
                errors.append(f"{where}.{key}: must be {limit} or fewer in length (got {len(value)})")
        fields = embed.get("fields") or []
        if len(fields) > EMBED_FIELDS_MAX:
            errors.append(f"{where}.fields: must be {EMBED_FIELDS_MAX} or fewer in length")
        for field_index, embed_field in enumerate(fields):
            name, value = embed_field.get("name") or "", embed_field.get("value") or ""
            total += len(name) + len(value)
            if not name or len(name) > FIELD_NAME_MAX:
                errors.append(f"{where}.fields[{field_index}].name: must be 1-{FIELD_NAME_MAX} long")
            if not value or len(value) > FIELD_VALUE_MAX:
                errors.append(f"{where}.fields[{field_index}].value: must be 1-{FIELD_VALUE_MAX} long")
        footer = (embed.get("footer") or {}).get("text") or ""
        author = (embed.get("author") or {}).get("name") or ""
        total += len(footer) + len(author)
        if len(footer) > FOOTER_TEXT_MAX:
            errors.append(f"{where}.footer.text: must be {FOOTER_TEXT_MAX} or fewer in length")
        if len(author) > AUTHOR_NAME_MAX:
            errors.append(f"{where}.author.name: must be {AUTHOR_NAME_MAX} or fewer in length")
    if total > EMBED_TOTAL_MAX:
        errors.append(f"embeds: combined text must be {EMBED_TOTAL_MAX} or fewer characters (got {total})")
    return errors


def component_errors(components: list[Payload], *, v2: bool = False) -> list[str]:
    errors: list[str] = []
    if not v2 and len(components) > ACTION_ROWS_MAX:
        errors.append(f"components: must be {ACTION_ROWS_MAX} or fewer in length")
    for index, component in enumerate(components):
        if component.get("type") == 1:
            children = component.get("components") or []
            if not 1 <= len(children) <= ROW_ITEMS_MAX:
                errors.append(f"components[{index}]: an action row holds 1-{ROW_ITEMS_MAX} components")
        elif not v2:
            errors.append(f"components[{index}]: top-level components must be action rows")
    for component in iter_components(components):
        errors.extend(_single_component_errors(component))
    return errors


def _single_component_errors(component: Payload) -> list[str]:
    errors: list[str] = []
    custom_id = component.get("custom_id")
    if custom_id is not None and not 1 <= len(custom_id) <= CUSTOM_ID_MAX:
        errors.append(f"custom_id {custom_id[:20]!r}...: must be 1-{CUSTOM_ID_MAX} long")
    if component.get("type") == 2:
        if len(component.get("label") or "") > BUTTON_LABEL_MAX:
            errors.append(f"button label must be {BUTTON_LABEL_MAX} or fewer in length")
        if component.get("style") == 5:
            if not component.get("url"):
                errors.append("link buttons need a url")
        elif component.get("style") != 6 and custom_id is None:
            errors.append("non-link buttons need a custom_id")
    if component.get("type") == 3 and len(component.get("options") or []) > SELECT_OPTIONS_MAX:
        errors.append(f"select menus hold at most {SELECT_OPTIONS_MAX} options")
    return errors


def iter_components(components: list[Payload]) -> list[Payload]:
    """All components, depth first, through action rows, sections, containers and labels."""
    found: list[Payload] = []
    for component in components:
        found.append(component)
        found.extend(iter_components(component.get("components") or []))
        for key in ("component", "accessory"):
            if isinstance(component.get(key), dict):
                found.extend(iter_components([component[key]]))
    return found


def choices_errors(data: Payload) -> list[str]:
    choices = data.get("choices")
    if not isinstance(choices, list):
        return ["data.choices: required"]
    errors = []
    if len(choices) > AUTOCOMPLETE_CHOICES_MAX:
        errors.append(f"data.choices: must be {AUTOCOMPLETE_CHOICES_MAX} or fewer in length")
    for index, choice in enumerate(choices):
        if not 1 <= len(choice.get("name") or "") <= CHOICE_NAME_MAX:
            errors.append(f"data.choices[{index}].name: must be 1-{CHOICE_NAME_MAX} long")
        if "value" not in choice:
            errors.append(f"data.choices[{index}].value: required")
    return errors


def modal_errors(data: Payload) -> list[str]:
    errors = []
    if not data.get("custom_id"):
        errors.append("data.custom_id: required")
    if not 1 <= len(data.get("title") or "") <= MODAL_TITLE_MAX:
        errors.append(f"data.title: must be 1-{MODAL_TITLE_MAX} long")
    if not 1 <= len(data.get("components") or []) <= 5:
        errors.append("data.components: must hold 1-5 components")
    return errors


def command_errors(commands: Any) -> list[str]:
    if not isinstance(commands, list):
        return ["body must be a list of commands"]
    if len(commands) > COMMANDS_MAX:
        return [f"at most {COMMANDS_MAX} commands"]
    errors: list[str] = []
    for index, command in enumerate(commands):
        name = command.get("name") or ""
        chat_input = command.get("type", 1) == 1
        if chat_input and (not COMMAND_NAME.match(name) or name != name.lower()):
            errors.append(f"[{index}].name: {name!r} is not a valid slash command name")
        if chat_input and not 1 <= len(command.get("description") or "") <= COMMAND_DESCRIPTION_MAX:
            errors.append(f"[{index}].description: must be 1-{COMMAND_DESCRIPTION_MAX} long")
    return errors
