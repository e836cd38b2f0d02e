import pytest

from bot.settings import SettingsError, load_settings


def test_ids_are_comma_separated(monkeypatch):
    monkeypatch.setenv("MYTHBOT_LISTEN_CHANNELS", "123, 456,")
    monkeypatch.setenv("MYTHBOT_DEV_GUILD_ID", "")
    settings = load_settings()
    assert settings.listen_channels == (123, 456) and settings.dev_guild_id is None


def test_each_bad_value_is_named(monkeypatch):
    monkeypatch.setenv("MYTHBOT_LISTEN_CHANNELS", "general")
    monkeypatch.setenv("MYTHBOT_MARGIN", "-3")
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert "MYTHBOT_LISTEN_CHANNELS: expected comma-separated numeric ids, got 'general'" in message
    assert "MYTHBOT_MARGIN:" in message


def test_token_is_secret(monkeypatch):
    monkeypatch.setenv("DISCORD_TOKEN", "abc.def.ghi")
    settings = load_settings()
    assert settings.token == "abc.def.ghi"
    assert "abc.def.ghi" not in repr(settings) and "abc.def.ghi" not in str(settings.model_dump())


def test_the_database_url_is_optional_and_secret(monkeypatch):
    assert load_settings().database is None  # the data dir's files, as before
    monkeypatch.setenv("MYTHBOT_DATABASE_URL", "  ")
    assert load_settings().database is None
    url = "postgresql://mythbot:hunter2@db.example/mythbot"
    monkeypatch.setenv("MYTHBOT_DATABASE_URL", url)
    settings = load_settings()
    assert settings.database == url
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.model_dump())


REAL_SHAPE = "MTIzNDU2Nzg5MDEyMzQ1Njc4OTA.GhIjKl.abcdefghijklmnopqrstuvwxyz-_0123456789ABCD"


@pytest.mark.parametrize("value", [REAL_SHAPE, f"  {REAL_SHAPE}\n", "x" * 256])
def test_a_token_of_the_right_shape_has_no_problem(monkeypatch, value):
    monkeypatch.setenv("DISCORD_TOKEN", value)
    assert load_settings().token_problem() is None  # copied with a line break at the end is fine too


@pytest.mark.parametrize(("value", "says"), [
    (REAL_SHAPE[:20] + "\n" + REAL_SHAPE[20:], "line break"), (REAL_SHAPE[:20] + "\x00x", "control character"),
    ("Bot " + REAL_SHAPE, "starts with 'Bot '"), (REAL_SHAPE + "é", "plain ASCII"), ("x" * 257, "257 characters"),
])
def test_a_malformed_token_is_named_without_quoting_it(monkeypatch, value, says):
    monkeypatch.setenv("DISCORD_TOKEN", value.replace("\x00", "\x01"))  # the environment cannot hold NUL
    problem = load_settings().token_problem()
    assert says in problem and "Reset Token" in problem and REAL_SHAPE[:8] not in problem
