"""Settings from the environment and `.env`, validated once at start.

Every variable is listed, commented, in `.env.example`. A bad value stops start-up with one line
per problem naming the variable; the token's value is never printed.
"""

from collections.abc import Sequence
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.engine.matcher import FUSED_DEFAULTS, FUZZY_DEFAULTS, MatchSettings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
IdList = Annotated[tuple[int, ...], NoDecode]
TOKEN_MAX_CHARS = 256  # bot tokens are about 70 characters; the margin is for a longer format to come


def default_knowledge_dir() -> Path:
    """The repository's `knowledge/` when running from a source checkout (an editable install), else the
    copy built into the package as `bot/_knowledge` (see setup.py). `MYTHBOT_KNOWLEDGE_DIR` overrides both."""
    checkout = PROJECT_ROOT / "knowledge"
    # pyproject.toml tells a checkout from site-packages, where some other distribution may own `knowledge/`.
    if (PROJECT_ROOT / "pyproject.toml").is_file() and checkout.is_dir():
        return checkout
    return Path(str(resources.files("bot") / "_knowledge"))


class SettingsError(Exception):
    """Invalid configuration; the message lists each bad variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MYTHBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore",
        hide_input_in_errors=True, populate_by_name=True,
    )

    discord_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_TOKEN", "MYTHBOT_DISCORD_TOKEN")
    )
    knowledge_dir: Path = Field(default_factory=default_knowledge_dir)
    data_dir: Path = Path("data")
    # postgresql://user:password@host/db: entries and records in PostgreSQL, shared by every process that
    # points at it. Unset: YAML files and SQLite in the data dir. A secret, like the token: never printed.
    database_url: SecretStr | None = None
    dev_guild_id: int | None = None
    listen_channels: IdList = ()
    moderator_role_ids: IdList = ()
    log_level: str = "INFO"
    # Shards (docs/deploy.md, "Sharding"): how many there are across every process, and which of them this
    # process runs (all of them when unset). Both unset: one gateway connection, no shards.
    shard_count: int | None = Field(default=None, ge=1)
    shard_ids: IdList = ()

    semantic: bool = Field(default=True, description="use the semantic scorer when its extra is installed")
    # Unset thresholds take the tuned defaults of the scorer in use (fused, or fuzzy alone).
    answer_threshold: float | None = Field(default=None, ge=0, le=100)
    clarify_threshold: float | None = Field(default=None, ge=0, le=100)
    passive_threshold: float | None = Field(default=None, ge=0, le=100)
    margin: float | None = Field(default=None, ge=0, le=100)
    agreement_threshold: float | None = Field(default=None, ge=0, le=101)

    channel_cooldown: float = Field(default=60.0, ge=0, description="seconds between passive answers in a channel")
    entry_cooldown: float = Field(default=600.0, ge=0, description="seconds before a channel hears the same entry")
    user_cooldown: float = Field(default=5.0, ge=0, description="seconds between answers to one member")
    conversation_ttl: float = Field(default=900.0, gt=0, description="seconds a follow-up still continues a topic")
    keep_questions_days: int = Field(default=180, ge=1, le=3660,
                                     description="days members' unanswered questions and suggestions are kept")

    @field_validator("listen_channels", "moderator_role_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.replace(";", ",").split(",")]
            bad = [part for part in parts if part and not part.isdigit()]
            if bad:
                raise ValueError(f"expected comma-separated numeric ids, got {', '.join(map(repr, bad))}")
            return tuple(int(part) for part in parts if part)
        return value

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _split_shard_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",")]
            bad = [part for part in parts if part and not part.isdigit()]
            if bad:
                raise ValueError(f"expected comma-separated shard numbers such as 0,1, got {', '.join(map(repr, bad))}")
            return tuple(int(part) for part in parts if part)
        return value

    @field_validator("shard_ids")
    @classmethod
    def _shards_in_range(cls, ids: tuple[int, ...], info: ValidationInfo) -> tuple[int, ...]:
        if not ids or "shard_count" not in info.data:  # a bad count is reported on its own line
            return ids
        count = info.data["shard_count"]
        if count is None:
            raise ValueError("needs MYTHBOT_SHARD_COUNT (or --shard-count), the number of shards across every process")
        if outside := sorted({i for i in ids if not 0 <= i < count}):
            raise ValueError(f"{_are(outside)} out of range: MYTHBOT_SHARD_COUNT is {count}, so shards are "
                             f"numbered 0 to {count - 1}")
        if twice := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"{_are(twice)} listed twice")
        return ids

    @field_validator("database_url", mode="before")
    @classmethod
    def _blank_url_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("dev_guild_id", "shard_count", "answer_threshold", "clarify_threshold", "passive_threshold",
                     "margin", "agreement_threshold", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    def match_settings(self, semantic: bool) -> MatchSettings:
        """The tuned defaults of the scorer in use, with any threshold this deployment overrides."""
        base = FUSED_DEFAULTS if semantic else FUZZY_DEFAULTS
        overrides = {name: value for name in base.thresholds() if (value := getattr(self, name)) is not None}
        return replace(base, **overrides)

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def database(self) -> str | None:
        """The database URL to open storage with; None means the data dir's files."""
        return self.database_url.get_secret_value().strip() if self.database_url else None

    @property
    def shards(self) -> tuple[int, ...] | None:
        """The shards this process runs, or None when the bot does not shard."""
        if self.shard_count is None:
            return None
        return self.shard_ids or tuple(range(self.shard_count))

    def shard_problem(self) -> str | None:
        """Why `run` must not start these shards: other processes run the rest, and without PostgreSQL they
        would share nothing (each its own data dir: a server's entries stay behind when its shard moves)."""
        shards = self.shards
        if shards is None or self.database or len(shards) == self.shard_count:
            return None
        return (f"MYTHBOT_SHARD_IDS: this process runs {_shards(shards)} of {self.shard_count}, so other processes "
                "run the rest, and processes share servers' entries only through PostgreSQL: set "
                "MYTHBOT_DATABASE_URL (docs/deploy.md, \"Sharding\"), or run every shard in this process")

    @property
    def token(self) -> str | None:
        token = self.discord_token.get_secret_value().strip() if self.discord_token else ""
        return token or None

    def token_problem(self) -> str | None:
        """Why DISCORD_TOKEN cannot be a bot token, found before connecting (a line break inside breaks
        the HTTP header; a huge one can come back quoted in the server's error). Never quotes the token."""
        token = self.token
        if token is None:
            return None
        advice = "copy it again from the Developer Portal (Bot > Reset Token)"
        if token[:4].casefold() == "bot ":
            return f"DISCORD_TOKEN starts with 'Bot ': set the token alone; {advice}"
        if any(c.isspace() or not c.isprintable() for c in token):
            return f"DISCORD_TOKEN has a space, line break or control character inside; {advice}"
        if not token.isascii():
            return f"DISCORD_TOKEN has characters a bot token never has (it is plain ASCII); {advice}"
        if len(token) > TOKEN_MAX_CHARS:
            return (f"DISCORD_TOKEN is {len(token)} characters long, far more than a bot token (about 70); "
                    f"{advice}")
        return None


def _shards(ids: Sequence[int]) -> str:
    return f"shard {ids[0]}" if len(ids) == 1 else f"shards {', '.join(map(str, ids))}"


def _are(ids: Sequence[int]) -> str:
    return f"{_shards(ids)} {'is' if len(ids) == 1 else 'are'}"


def _variable(loc: tuple[str | int, ...]) -> str:
    name = str(loc[0]) if loc else "?"
    return "DISCORD_TOKEN" if name == "discord_token" else f"MYTHBOT_{name.upper()}"


def load_settings(**overrides: Any) -> Settings:
    """Read settings, raising `SettingsError` with one line per bad variable (values not echoed)."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = [f"{_variable(err['loc'])}: {err['msg'].removeprefix('Value error, ')}"
                 for err in exc.errors(include_url=False, include_input=False)]
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None
