"""`mythbot stats` and `mythbot gaps export` through the real command line, on storage seeded through the
storage API: the figures must match the seeded records, and the patch exactly the taught phrasings."""

import asyncio
import json
import os
import struct
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from bot.engine.knowledge import load_knowledge
from bot.storage.base import Actor
from bot.storage.factory import open_storage
from bot.storage.operations import add_entry_op, hide_entry, train
from tests.conftest import FIXTURE_KB
from tests.storage.conftest import creatine_entry
from tests.test_cli import mythbot

GUILD, OTHER_GUILD, QUIET_GUILD, UNKNOWN_GUILD = 111, 222, 333, 999
CREATINE = "does-creatine-make-you-bloated"
UNTIL, DAYS = date(2025, 3, 14), 7
FIRST_DAY = UNTIL - timedelta(days=DAYS - 1)
ANA = Actor(5, "Ana")
TITLES = {"spot-reduction": "Can you burn fat from one spot?", "protein-intake":
          "How much protein do I need to build muscle?", "squats-hip-dips": "Will squats fix hip dips?",
          CREATINE: "Does creatine make you bloated?"}
SHOWN = TITLES | {"protein-intake": "How much protein do I need to build mus…"}  # the text keeps 40 characters

# (server, day, status, entry, how many): the day before the window, the day after --until, another
# server and DMs must not count.
DECISIONS = [
    (GUILD, date(2025, 3, 7), "answer", "squats-hip-dips", 5),
    (GUILD, date(2025, 3, 8), "answer", "spot-reduction", 3),
    (GUILD, date(2025, 3, 10), "answer", "protein-intake", 2),
    (GUILD, date(2025, 3, 10), "clarify", None, 1),
    (GUILD, date(2025, 3, 10), "none", None, 2),
    (GUILD, date(2025, 3, 14), "answer", CREATINE, 4),
    (GUILD, date(2025, 3, 14), "answer", "spot-reduction", 1),
    (GUILD, date(2025, 3, 14), "none", None, 1),
    (GUILD, date(2025, 3, 15), "answer", "squats-hip-dips", 5),
    (OTHER_GUILD, date(2025, 3, 12), "answer", "protein-intake", 6),
    (None, date(2025, 3, 12), "none", None, 2),
]
# (server, day, message, member, entry, helpful): a second vote by one member on one answer replaces the first.
VOTES = [
    (GUILD, date(2025, 3, 8), 1, 70, "spot-reduction", True),
    (GUILD, date(2025, 3, 8), 1, 71, "spot-reduction", True),
    (GUILD, date(2025, 3, 9), 2, 70, "spot-reduction", True),
    (GUILD, date(2025, 3, 11), 2, 70, "spot-reduction", False),  # replaces the vote above
    (GUILD, date(2025, 3, 14), 3, 72, CREATINE, False),
    (GUILD, date(2025, 3, 6), 4, 73, "protein-intake", True),  # before the window
    (OTHER_GUILD, date(2025, 3, 12), 5, 74, "protein-intake", True),
]
# (server, entry, phrasings) taught by moderators, in this order.
TAUGHT = [
    (GUILD, "spot-reduction", ["can i melt my love handles with side bends", "how do i lose belly fat only"]),
    (GUILD, "protein-intake", ["protein for bigger glutes"]),
    (GUILD, CREATINE, ["is creatine just water"]),  # the server's own entry: not for knowledge/
    (GUILD, "squats-hip-dips", ["are squats good for hip dips"]),
    (OTHER_GUILD, "spot-reduction", ["Can I melt my love handles with side bends?"]),  # the same, once more
    (OTHER_GUILD, "squats-hip-dips", ["squats for hip dips yes or no"]),
    (OTHER_GUILD, "protein-intake", ["are squats good for hip dips"]),  # taught for another entry in 111
    (QUIET_GUILD, "spot-reduction", ["no more muffin top with crunches"]),  # then hidden there
]


def midnight(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


class Clock:
    """What `time.time()` says to the record stores while seeding: records land on the planned days."""

    def __init__(self) -> None:
        self.now = 0.0

    def time(self) -> float:
        return self.now


async def seed(data_dir: Path, database_url: str | None, clock: Clock) -> None:
    kb = load_knowledge(FIXTURE_KB)
    faq, records = await open_storage(data_dir, database_url, lambda: kb)
    try:
        await faq.load_all()
        await faq.apply(GUILD, add_entry_op(creatine_entry(), ANA))
        for guild_id, entry_id, phrasings in TAUGHT:
            await faq.apply(guild_id, train(entry_id, phrasings, ANA))
        await faq.apply(QUIET_GUILD, hide_entry("spot-reduction"))
        for guild_id, day, status, entry_id, count in DECISIONS:
            for n in range(count):
                clock.now = midnight(day) + n * 3600  # the first at midnight: the window's first second counts
                await records.record_decision(guild_id, 1, status, entry_id, 80.0)
        for guild_id, day, message_id, user_id, entry_id, helpful in VOTES:
            clock.now = midnight(day) + 86_399  # the day's last second
            await records.record_feedback(guild_id, message_id, user_id, entry_id=entry_id, helpful=helpful)
    finally:
        await faq.close()
        await records.close()


def seeded(tmp_path: Path, monkeypatch, database_url: str | None = None) -> Path:
    clock = Clock()
    monkeypatch.setattr("bot.storage.records.time", clock)
    if database_url:
        monkeypatch.setattr("bot.storage.postgres.store.time", clock)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    asyncio.run(seed(data_dir, database_url, clock))
    monkeypatch.undo()
    return data_dir


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    with pytest.MonkeyPatch.context() as monkeypatch:
        return seeded(tmp_path_factory.mktemp("seeded"), monkeypatch)


def in_window(day: date) -> bool:
    return FIRST_DAY <= day <= UNTIL


def expected_per_day(guild_id: int) -> dict[str, list[int]]:
    days = {(FIRST_DAY + timedelta(days=n)).isoformat(): [0, 0, 0] for n in range(DAYS)}
    for guild, day, status, _, count in DECISIONS:
        if guild == guild_id and in_window(day):
            days[day.isoformat()][("answer", "clarify", "none").index(status)] += count
    return days


def expected_answered(guild_id: int) -> Counter:
    answered: Counter = Counter()
    for guild, day, status, entry, count in DECISIONS:
        if guild == guild_id and in_window(day) and status == "answer":
            answered[entry] += count
    return answered


def expected_votes(guild_id: int) -> dict[str, list[int]]:
    final = {(message, user): (day, entry, helpful) for guild, day, message, user, entry, helpful in VOTES
             if guild == guild_id}  # the last vote of a member on an answer is the one kept
    votes: dict[str, list[int]] = {}
    for day, entry, helpful in final.values():
        if in_window(day):
            votes.setdefault(entry, [0, 0])[0 if helpful else 1] += 1
    return votes


def stats_cli(data_dir: Path | None, *args: str, env: dict | None = None):
    where = ["--data", str(data_dir)] if data_dir else []
    return mythbot("stats", "--knowledge", str(FIXTURE_KB), *where, "--until", UNTIL.isoformat(),
                   "--days", str(DAYS), *args, env=env)


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n" and header[12:16] == b"IHDR"
    return struct.unpack(">II", header[16:24])


# --- mythbot stats -------------------------------------------------------------------------------------------


def test_stats_text_matches_the_seeded_records_and_the_png_is_1200_by_900(data_dir, tmp_path):
    out = tmp_path / "stats.png"
    run = stats_cli(data_dir, "--guild", str(GUILD), "--out", str(out))
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == f"Last {DAYS} days ({FIRST_DAY.isoformat()} to {UNTIL.isoformat()}, UTC)"
    per_day = expected_per_day(GUILD)
    answered, clarified, unanswered = (sum(day[i] for day in per_day.values()) for i in range(3))
    total = answered + clarified + unanswered
    assert (total, answered) == (14, 10)  # the plan, counted by hand: the test must not share a bug with the code
    assert lines[1] == (f"Questions: {total}. Answered {answered} ({round(100 * answered / total)}%), "
                        f"asked which one {clarified}, unanswered {unanswered}.")
    votes = expected_votes(GUILD)
    assert lines[2] == (f"Votes: {sum(v[0] for v in votes.values())} helpful, "
                        f"{sum(v[1] for v in votes.values())} not helpful.")
    for day, (a, c, u) in per_day.items():
        assert f"{day}: {a}/{c}/{u}" in lines
    ranked = sorted(expected_answered(GUILD).items(), key=lambda item: (-item[1], item[0]))
    top = lines.index("Most asked entries (times answered):")
    assert lines[top + 1: top + 1 + len(ranked)] == [f"{rank}. {SHOWN[entry]}: {count}"
                                                     for rank, (entry, count) in enumerate(ranked, 1)]
    for entry, (helpful, not_helpful) in votes.items():
        assert f"{SHOWN[entry]}: {helpful}/{not_helpful}" in lines
    assert png_size(out) == (1200, 900)
    assert f"wrote {out}" in run.stderr


def test_stats_json_has_every_figure(data_dir):
    run = stats_cli(data_dir, "--guild", str(GUILD), "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert {day["day"]: [day["answered"], day["clarified"], day["unanswered"]] for day in data["per_day"]} \
        == expected_per_day(GUILD)
    assert (data["guild"], data["days"], data["first_day"], data["last_day"]) == \
        (GUILD, DAYS, FIRST_DAY.isoformat(), UNTIL.isoformat())
    assert (data["questions"], data["answered"], data["clarified"], data["unanswered"]) == (14, 10, 1, 3)
    assert data["answered_share"] == pytest.approx(10 / 14)
    assert {row["entry"]: row["answered"] for row in data["top_entries"]} == expected_answered(GUILD)
    assert {row["entry"]: row["title"] for row in data["top_entries"]} == {
        entry: TITLES[entry] for entry in expected_answered(GUILD)}  # the server's own entry is named too
    assert {row["entry"]: [row["helpful"], row["not_helpful"]] for row in data["votes"]} == expected_votes(GUILD)
    assert (data["helpful"], data["not_helpful"]) == (2, 2)


def test_a_server_with_nothing_in_the_window_gets_empty_figures_and_an_unknown_one_an_error(data_dir):
    quiet = stats_cli(data_dir, "--guild", str(QUIET_GUILD))
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout.splitlines()[1:] == ["No questions yet in this window.", "No votes yet."]
    unknown = stats_cli(data_dir, "--guild", str(UNKNOWN_GUILD))
    assert unknown.returncode == 1 and unknown.stdout == ""
    assert unknown.stderr.strip() == (
        f"mythbot: guild {UNKNOWN_GUILD}: nothing is stored for it in the data dir {data_dir} (no entries, "
        "taught phrasings or records); check the id and where the bot keeps its data")


def test_stats_output_problems_are_one_clear_line(data_dir, tmp_path):
    into_dir = stats_cli(data_dir, "--guild", str(GUILD), "--out", str(tmp_path))
    assert (into_dir.returncode, into_dir.stderr) == (1, f"mythbot: {tmp_path} is a directory; give a file name\n")
    missing = tmp_path / "no-such-dir" / "stats.png"
    no_dir = stats_cli(data_dir, "--guild", str(GUILD), "--out", str(missing))
    assert no_dir.returncode == 1
    assert no_dir.stderr == f"mythbot: cannot write {missing}: {missing.parent} does not exist\n"
    assert not missing.parent.exists()


def unwritable_dir(tmp_path: Path) -> Path:
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        return locked
    probe = Path("/sys") / ".mythbot-probe"  # sysfs refuses new files even to root
    try:
        probe.touch()
    except OSError:
        return probe.parent
    probe.unlink()
    pytest.skip("running as root with no directory that root cannot write to")


def test_an_unwritable_output_is_refused_with_the_reason_and_an_existing_file_is_replaced_whole(data_dir, tmp_path):
    target = unwritable_dir(tmp_path) / "stats.png"
    refused = stats_cli(data_dir, "--guild", str(GUILD), "--out", str(target))
    assert (refused.returncode, refused.stderr) == (1, f"mythbot: cannot write {target}: permission denied\n")

    existing = tmp_path / "week.png"
    existing.write_text("last week's picture")
    replaced = stats_cli(data_dir, "--guild", str(GUILD), "--out", str(existing))
    assert replaced.returncode == 0, replaced.stderr
    assert png_size(existing) == (1200, 900)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temp file left


def test_a_missing_data_dir_is_named(tmp_path):
    run = stats_cli(tmp_path / "nowhere", "--guild", str(GUILD))
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stderr.startswith(f"mythbot: {tmp_path / 'nowhere'}: no such data directory")
    assert not (tmp_path / "nowhere").exists()


# --- mythbot gaps export ------------------------------------------------------------------------------------

SPOT = {"can i melt my love handles with side bends": 2, "how do i lose belly fat only": 1}


def gaps_cli(data_dir: Path | None, *args: str, knowledge: Path = FIXTURE_KB, env: dict | None = None):
    where = ["--data", str(data_dir)] if data_dir else []
    return mythbot("gaps", "export", "--knowledge", str(knowledge), *where, *args, env=env)


def test_the_patch_lists_exactly_the_taught_phrasings_of_curated_entries_with_counts(data_dir):
    run = gaps_cli(data_dir)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("# Phrasings moderators taught for curated entries")
    patch = yaml.safe_load(run.stdout)
    assert patch["files"] == {"kb/myths.yaml": {
        "spot-reduction": {"title": TITLES["spot-reduction"], "line": 2, "questions": list(SPOT), "servers": SPOT},
        "protein-intake": {"title": TITLES["protein-intake"], "line": 14, "questions": ["protein for bigger glutes"],
                           "servers": {"protein for bigger glutes": 1}},
        "squats-hip-dips": {"title": TITLES["squats-hip-dips"], "line": 24,
                            "questions": ["squats for hip dips yes or no"],
                            "servers": {"squats for hip dips yes or no": 1}},
    }}
    assert patch["disputed"] == [{"question": "are squats good for hip dips",
                                  "entries": {"protein-intake": [OTHER_GUILD], "squats-hip-dips": [GUILD]}}]
    assert patch["phrasings"] == 4
    assert patch["guilds"] == {GUILD: 3, OTHER_GUILD: 2, QUIET_GUILD: 0}
    assert "left out 1 phrasing(s): the entry is hidden in that server" in run.stderr.splitlines()
    assert run.stderr.splitlines()[-1] == "4 phrasing(s) for 3 curated entries from 3 server(s), 1 disputed"


def test_one_server_alone_and_into_a_file(data_dir, tmp_path):
    out = tmp_path / "patch.yaml"
    run = gaps_cli(data_dir, "--guild", str(OTHER_GUILD), "--out", str(out))
    assert (run.returncode, run.stdout) == (0, ""), run.stderr
    patch = yaml.safe_load(out.read_text())
    assert patch["guilds"] == {OTHER_GUILD: 3}
    assert {entry: body["servers"] for entry, body in patch["files"]["kb/myths.yaml"].items()} == {
        "spot-reduction": {"Can I melt my love handles with side bends?": 1},  # this server's spelling
        "squats-hip-dips": {"squats for hip dips yes or no": 1},
        "protein-intake": {"are squats good for hip dips": 1},  # disputed only across servers
    }
    assert "disputed" not in patch
    unknown = gaps_cli(data_dir, "--guild", str(UNKNOWN_GUILD))
    assert unknown.returncode == 1 and f"guild {UNKNOWN_GUILD}: nothing is stored for it" in unknown.stderr


def test_phrasings_the_curated_knowledge_has_since_gained_are_left_out(data_dir, kb_copy):
    myths = kb_copy / "myths.yaml"
    text = myths.read_text()
    text = text.replace("      - does spot reduction work\n",
                        "      - does spot reduction work\n      - How do I lose belly fat, only?\n")
    text = text.replace("      - do squats make hips bigger\n",
                        "      - do squats make hips bigger\n      - protein for bigger glutes\n")
    myths.write_text(text)
    run = gaps_cli(data_dir, knowledge=kb_copy)
    assert run.returncode == 0, run.stderr
    patch = yaml.safe_load(run.stdout)
    assert patch["files"]["kb/myths.yaml"]["spot-reduction"]["servers"] == {
        "can i melt my love handles with side bends": 2}
    assert "protein-intake" not in patch["files"]["kb/myths.yaml"]
    assert {"left out 1 phrasing(s): the entry already has it",
            "left out 1 phrasing(s): it reads the same as a phrasing of 'squats-glute-growth'"} \
        <= set(run.stderr.splitlines())


# --- PostgreSQL ------------------------------------------------------------------------------------------------


def test_postgres_gives_the_same_figures_and_patch_as_the_data_dir(data_dir, tmp_path, pg_database, monkeypatch):
    seeded(tmp_path, monkeypatch, pg_database)
    env = {"MYTHBOT_DATABASE_URL": pg_database}
    from_pg = stats_cli(None, "--guild", str(GUILD), "--json", env=env)
    from_files = stats_cli(data_dir, "--guild", str(GUILD), "--json")
    assert from_pg.returncode == 0, from_pg.stderr
    assert json.loads(from_pg.stdout) == json.loads(from_files.stdout)
    patch_pg, patch_files = gaps_cli(None, env=env), gaps_cli(data_dir)
    assert patch_pg.returncode == 0, patch_pg.stderr
    assert patch_pg.stdout == patch_files.stdout
    unknown = stats_cli(None, "--guild", str(UNKNOWN_GUILD), env=env)
    assert unknown.returncode == 1 and f"guild {UNKNOWN_GUILD}: nothing is stored for it in the database" \
        in unknown.stderr
