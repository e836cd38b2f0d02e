"""The JSON Schema editors use to check knowledge YAML as you type, generated from the models."""

import json
from pathlib import Path
from typing import Any

from bot.engine.schema import KnowledgeFile

SCHEMA_ID = "https://mythbot.invalid/knowledge.schema.json"


def knowledge_schema() -> dict[str, Any]:
    schema = KnowledgeFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "Mythbot knowledge file"
    return schema


def schema_text() -> str:
    return json.dumps(knowledge_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def write_schema(path: Path) -> None:
    path.write_text(schema_text(), encoding="utf-8")


def check_schema(path: Path) -> bool:
    """True when the committed schema matches the models."""
    try:
        return path.read_text(encoding="utf-8") == schema_text()
    except OSError:
        return False
