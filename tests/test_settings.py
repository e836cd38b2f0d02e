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


def test_shards_are_unset_by_default_and_comma_separated(monkeypatch):
    assert load_settings().shards is None  # one gateway connection, as before
    monkeypatch.setenv("MYTHBOT_SHARD_COUNT", "4")
    assert load_settings().shards == (0, 1, 2, 3)  # a count alone: every shard in this process
    monkeypatch.setenv("MYTHBOT_SHARD_IDS", " 2, 3,")
    settings = load_settings()
    assert (settings.shard_count, settings.shard_ids, settings.shards) == (4, (2, 3), (2, 3))


@pytest.mark.parametrize(("count", "ids", "says"), [
    ("0", "", "MYTHBOT_SHARD_COUNT: Input should be greater than or equal to 1"),
    ("two", "", "MYTHBOT_SHARD_COUNT: Input should be a valid integer"),
    ("", "0,1", "MYTHBOT_SHARD_IDS: needs MYTHBOT_SHARD_COUNT (or --shard-count), the number of shards across "
                "every process"),
    ("2", "1,2,5", "MYTHBOT_SHARD_IDS: shards 2, 5 are out of range: MYTHBOT_SHARD_COUNT is 2, so shards are "
                   "numbered 0 to 1"),
    ("2", "1,1", "MYTHBOT_SHARD_IDS: shard 1 is listed twice"),
    ("2", "0;1,-1", "MYTHBOT_SHARD_IDS: expected comma-separated shard numbers such as 0,1, got '0;1', '-1'"),
])
def test_each_bad_shard_setting_is_one_line(monkeypatch, count, ids, says):
    monkeypatch.setenv("MYTHBOT_SHARD_COUNT", count)
    monkeypatch.setenv("MYTHBOT_SHARD_IDS", ids)
    with pytest.raises(SettingsError) as info:
        load_settings()
    [line] = str(info.value).splitlines()[1:]
    assert line.strip().startswith(says)


def test_a_bad_count_is_named_once_not_again_through_the_ids(monkeypatch):
    monkeypatch.setenv("MYTHBOT_SHARD_COUNT", "-1")
    monkeypatch.setenv("MYTHBOT_SHARD_IDS", "0,1")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert [line.split(":")[0].strip() for line in str(info.value).splitlines()[1:]] == ["MYTHBOT_SHARD_COUNT"]


@pytest.mark.parametrize(("count", "ids", "database", "refused"), [
    ("", "", None, False),  # no shards
    ("4", "", None, False),  # every shard in this process: its data dir is all the state there is
    ("2", "1,0", None, False),
    ("4", "0,1", None, True),  # other processes run shards 2 and 3: files are not shared state
    ("4", "0,1", "postgresql://mythbot@db.example/mythbot", False),
])
def test_running_some_shards_needs_the_shared_database(monkeypatch, count, ids, database, refused):
    monkeypatch.setenv("MYTHBOT_SHARD_COUNT", count)
    monkeypatch.setenv("MYTHBOT_SHARD_IDS", ids)
    monkeypatch.setenv("MYTHBOT_DATABASE_URL", database or "")
    problem = load_settings().shard_problem()
    if not refused:
        assert problem is None
    else:
        assert problem.startswith("MYTHBOT_SHARD_IDS: this process runs shards 0, 1 of 4, so other processes run "
                                  "the rest") and "set MYTHBOT_DATABASE_URL" in problem
