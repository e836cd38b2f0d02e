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
