"""Discord's documented limits, checked the way the real API checks them (400 Invalid Form Body, 50035).

Only limits a bot can realistically hit; each check returns human-readable errors naming the field.
"""

from __future__ import annotations

from typing import Any

from .world import Payload

FLAG_COMPONENTS_V2 = 1 << 15
ALLOWED_MESSAGE_FLAGS = (1 << 2) | (1 << 6) | (1 << 12) | FLAG_COMPONENTS_V2  # no embeds, ephemeral, silent, v2
EMBED_TEXT_LIMITS = {"title": 256, "description": 4096, "footer.text": 2048, "author.name": 256}
EMBED_TOTAL_MAX = 6000


def length_errors(where: str, value: Any, maximum: int, minimum: int = 0) -> list[str]:
    """`value` (a string or a list) must hold minimum..maximum characters or items."""
    size = len(value or "")
    return [] if minimum <= size <= maximum else [f"{where}: must be {minimum}-{maximum} long (got {size})"]


def message_errors(body: Payload | None) -> list[str]:
    body = body or {}
    flags, embeds = body.get("flags") or 0, body.get("embeds") or []
    errors = length_errors("content", body.get("content"), 2000) + length_errors("embeds", embeds, 10)
    for index, embed in enumerate(embeds):
        errors += embed_errors(f"embeds[{index}]", embed)
    total = sum(sum(map(len, _embed_texts(embed))) for embed in embeds)
    if total > EMBED_TOTAL_MAX:
        errors.append(f"embeds: combined text must be {EMBED_TOTAL_MAX} or fewer characters (got {total})")
    errors += component_errors(body.get("components") or [], v2=bool(flags & FLAG_COMPONENTS_V2))
    if flags & ~ALLOWED_MESSAGE_FLAGS:
        errors.append(f"flags: unsupported message flags {flags}")
    return errors


def is_empty_message(body: Payload | None, *, has_files: bool) -> bool:
    body = body or {}
    return not (has_files or any(body.get(key) for key in ("content", "embeds", "components", "sticker_ids", "poll")))


def _embed_text(embed: Payload, key: str) -> str:
    parent, _, child = key.partition(".")
    return ((embed.get(parent) or {}).get(child) if child else embed.get(key)) or ""


def _embed_texts(embed: Payload) -> list[str]:
    fields = embed.get("fields") or []
    return [_embed_text(embed, key) for key in EMBED_TEXT_LIMITS] + \
        [(field.get(part) or "") for field in fields for part in ("name", "value")]


def embed_errors(where: str, embed: Payload) -> list[str]:
    errors = [e for key, limit in EMBED_TEXT_LIMITS.items() for e in
              length_errors(f"{where}.{key}", _embed_text(embed, key), limit)]
    fields = embed.get("fields") or []
    errors += length_errors(f"{where}.fields", fields, 25)
    for index, field in enumerate(fields):
        errors += length_errors(f"{where}.fields[{index}].name", field.get("name"), 256, 1)
        errors += length_errors(f"{where}.fields[{index}].value", field.get("value"), 1024, 1)
    return errors


def component_errors(components: list[Payload], *, v2: bool = False) -> list[str]:
    errors = [] if v2 else length_errors("components", components, 5)
    for index, component in enumerate(components):
        if component.get("type") == 1:
            errors += length_errors(f"components[{index}] (action row)", component.get("components"), 5, 1)
        elif not v2:
            errors.append(f"components[{index}]: top-level components must be action rows")
    for component in iter_components(components):
        errors += _single_component_errors(component)
    return errors


def _single_component_errors(component: Payload) -> list[str]:
    kind, style, custom_id = component.get("type"), component.get("style"), component.get("custom_id")
    where = f"component {custom_id or kind!r}"
    errors = length_errors(f"{where}.custom_id", custom_id, 100, 1) if custom_id is not None else []
    if kind == 2:
        errors += length_errors(f"{where}.label", component.get("label"), 80)
        if style == 5 and not component.get("url"):
            errors.append(f"{where}: link buttons need a url")
        if style not in (5, 6) and custom_id is None:
            errors.append(f"{where}: non-link buttons need a custom_id")
    if kind == 3:
        errors += length_errors(f"{where}.options", component.get("options"), 25)
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
    errors = length_errors("data.choices", choices, 25)
    for index, choice in enumerate(choices):
        errors += length_errors(f"data.choices[{index}].name", choice.get("name"), 100, 1)
        errors += [] if "value" in choice else [f"data.choices[{index}].value: required"]
    return errors


def modal_errors(data: Payload) -> list[str]:
    errors = length_errors("data.custom_id", data.get("custom_id"), 100, 1) if data.get("custom_id") else \
        ["data.custom_id: required"]
    return errors + length_errors("data.title", data.get("title"), 45, 1) + \
        length_errors("data.components", data.get("components"), 5, 1)
