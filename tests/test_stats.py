"""The figures behind `/faq stats` and `mythbot stats`, checked against counts made straight from the records."""

import hashlib
import random
import re
import subprocess
import sys
import warnings
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.stats import (
    DISCORD_LIMIT,
    MAX_DAYS,
    Decision,
    Stats,
    Vote,
    as_text,
    draw,
    render_png,
    summarise,
)

NOW = datetime(2025, 3, 14, 15, 30, tzinfo=UTC).timestamp()  # a Friday afternoon
TODAY = date(2025, 3, 14)
FIRST_DAY = TODAY - timedelta(days=13)
QUIET_DAYS = {FIRST_DAY + timedelta(days=3), FIRST_DAY + timedelta(days=9)}
ENTRIES = [f"entry-{n:02d}" for n in range(12)]
TITLES = {entry: f"Entry number {n}" for n, entry in enumerate(ENTRIES)}
DAY_LINE = re.compile(r"^(\d{4}-\d{2}-\d{2}): (\d+)/(\d+)/(\d+)$")


def midnight(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def utc_day(timestamp: float) -> date:
    return datetime.fromtimestamp(timestamp, UTC).date()


def seeded_records(days: int = 14, today: date = TODAY, seed: int = 7,
                   quiet: set[date] = QUIET_DAYS) -> tuple[list[Decision], list[Vote]]:
    """Made-up decisions and votes over the window, plus a few days either side that must not count."""
    rng = random.Random(seed)
    weights = [len(ENTRIES) - n for n in range(len(ENTRIES))]  # some entries asked more than others
    decisions: list[Decision] = []
    votes: list[Vote] = []
    first = today - timedelta(days=days - 1)
    for offset in range(-3, days + 2):
        day = first + timedelta(days=offset)
        if day in quiet:
            continue
        for _ in range(rng.randint(1, 12)):
            at = midnight(day) + rng.uniform(0, 86_399)
            status = rng.choices(["answer", "clarify", "none"], weights=[6, 2, 2])[0]
            entry = rng.choices(ENTRIES, weights=weights)[0] if status != "none" else None
            decisions.append(Decision(at, status, entry))
            if status == "answer" and rng.random() < 0.4:
                votes.append(Vote(at + 30, entry, rng.random() < 0.7))
    rng.shuffle(decisions)  # storage order is not a promise
    return decisions, votes


def expected_per_day(decisions, first: date, last: date) -> dict[date, list[int]]:
    counts = {first + timedelta(days=i): [0, 0, 0] for i in range((last - first).days + 1)}
    for d in decisions:
        day = utc_day(d.created_at)
        if day in counts:
            counts[day][["answer", "clarify", "none"].index(d.status)] += 1
    return counts


def in_window(timestamp: float, first: date = FIRST_DAY, last: date = TODAY) -> bool:
    return first <= utc_day(timestamp) <= last


@pytest.fixture(scope="module")
def records():
    return seeded_records()


@pytest.fixture(scope="module")
def stats(records) -> Stats:
    decisions, votes = records
    return summarise(decisions, votes, days=14, now=NOW, titles=TITLES)


def test_every_day_of_the_window_is_present_oldest_first_zero_days_included(stats):
    assert [d.day for d in stats.per_day] == [FIRST_DAY + timedelta(days=i) for i in range(14)]
    assert (stats.first_day, stats.last_day, stats.days) == (FIRST_DAY, TODAY, 14)
    for quiet in QUIET_DAYS:
        row = stats.per_day[(quiet - FIRST_DAY).days]
        assert (row.answered, row.clarified, row.unanswered) == (0, 0, 0)


def test_per_day_counts_and_totals_match_the_records(records, stats):
    decisions, _ = records
    expected = expected_per_day(decisions, FIRST_DAY, TODAY)
    assert {d.day: [d.answered, d.clarified, d.unanswered] for d in stats.per_day} == expected
    inside = [d for d in decisions if in_window(d.created_at)]
    assert len(inside) < len(decisions)  # the seed put records outside the window too
    assert stats.total == len(inside)
    assert stats.answered == sum(d.status == "answer" for d in inside)
    assert stats.clarified == sum(d.status == "clarify" for d in inside)
    assert stats.unanswered == sum(d.status == "none" for d in inside)
    assert stats.answered_share == pytest.approx(stats.answered / len(inside))


def test_most_asked_entries_are_the_top_eight_by_answers(records, stats):
    decisions, _ = records
    answered = Counter(d.entry_id for d in decisions if d.status == "answer" and in_window(d.created_at))
    assert len(answered) > 8
    assert [(e.entry_id, e.answered) for e in stats.top_entries] == \
        sorted(answered.items(), key=lambda kv: (-kv[1], kv[0]))[:8]
    assert [e.title for e in stats.top_entries] == [TITLES[e.entry_id] for e in stats.top_entries]


def test_votes_per_entry_match_the_records(records, stats):
    _, votes = records
    inside = [v for v in votes if in_window(v.created_at)]
    helpful = Counter(v.entry_id for v in inside if v.helpful)
    not_helpful = Counter(v.entry_id for v in inside if not v.helpful)
    assert (stats.helpful, stats.not_helpful) == (sum(helpful.values()), sum(not_helpful.values()))
    assert stats.votes
    for row in stats.votes:
        assert (row.helpful, row.not_helpful) == (helpful[row.entry_id], not_helpful[row.entry_id])
    totals = [row.total for row in stats.votes]
    assert totals == sorted(totals, reverse=True)
    assert min(totals) >= max((helpful[e] + not_helpful[e] for e in set(helpful) | set(not_helpful)
                               if e not in {row.entry_id for row in stats.votes}), default=0)


def test_ties_rank_by_id_and_only_eight_are_kept():
    decisions = [Decision(NOW, "answer", entry) for entry, times in
                 [("b", 5), ("c", 5), ("a", 3), *((f"z{n}", 1) for n in range(7))] for _ in range(times)]
    stats = summarise(decisions, [], days=1, now=NOW, titles={"b": "Bee"})
    assert [(e.entry_id, e.title, e.answered) for e in stats.top_entries[:3]] == [
        ("b", "Bee", 5), ("c", "c", 5), ("a", "a", 3)]  # an entry with no title shows its id
    assert len(stats.top_entries) == 8


def test_window_edges_are_utc_midnights():
    just_in = [midnight(FIRST_DAY), midnight(TODAY + timedelta(days=1)) - 0.001]
    just_out = [midnight(FIRST_DAY) - 0.001, midnight(TODAY + timedelta(days=1))]
    decisions = [Decision(t, "none") for t in just_in + just_out]
    votes = [Vote(t, "x", True) for t in just_in + just_out]
    stats = summarise(decisions, votes, days=14, now=NOW, titles={})
    assert stats.total == 2
    assert (stats.per_day[0].unanswered, stats.per_day[-1].unanswered) == (1, 1)
    assert stats.helpful == 2


def test_bad_input_is_refused_with_a_clear_message():
    for days in (0, -1, MAX_DAYS + 1, 1.5, True):
        with pytest.raises(ValueError, match="days must be"):
            summarise([], [], days=days, now=NOW, titles={})
    with pytest.raises(ValueError, match=r"decision 1: status must be one of answer, clarify, none, got 'maybe'"):
        summarise([Decision(NOW, "answer", "a"), Decision(NOW, "maybe", None)], [], days=7, now=NOW, titles={})


def test_text_lists_every_day_with_the_counts_from_the_records(records, stats):
    decisions, _ = records
    text = as_text(stats)
    lines = text.splitlines()
    days = {date.fromisoformat(m[1]): [int(m[2]), int(m[3]), int(m[4])]
            for m in map(DAY_LINE.match, lines) if m}
    assert days == expected_per_day(decisions, FIRST_DAY, TODAY)
    assert f"({FIRST_DAY.isoformat()} to {TODAY.isoformat()}, UTC)" in lines[0]
    share = round(100 * stats.answered / stats.total)
    assert (f"Questions: {stats.total}. Answered {stats.answered} ({share}%), "
            f"asked which one {stats.clarified}, unanswered {stats.unanswered}.") in lines
    assert f"Votes: {stats.helpful} helpful, {stats.not_helpful} not helpful." in lines


def test_text_names_the_top_entries_in_order_and_their_votes(stats):
    lines = as_text(stats).splitlines()
    start = lines.index("Most asked entries (times answered):")
    assert lines[start + 1 : start + 9] == [f"{rank}. {e.title}: {e.answered}"
                                           for rank, e in enumerate(stats.top_entries, 1)]
    start = lines.index("Votes per entry (helpful/not helpful):")
    assert lines[start + 1 :] == [f"{v.title}: {v.helpful}/{v.not_helpful}" for v in stats.votes]


def test_a_year_is_summarised_by_week_within_a_discord_message():
    decisions, votes = seeded_records(days=365, seed=11, quiet=set())
    long_titles = {entry: f"{title} with a very long name that goes on " * 4 for entry, title in TITLES.items()}
    stats = summarise(decisions, votes, days=365, now=NOW, titles=long_titles)
    text = as_text(stats)
    assert len(text) <= DISCORD_LIMIT
    assert "Per week starting (answered/asked which one/unanswered):" in text
    weeks = {date.fromisoformat(m[1]): [int(m[2]), int(m[3]), int(m[4])]
             for m in map(DAY_LINE.match, text.splitlines()) if m}
    expected: dict[date, list[int]] = {}
    for day, counts in expected_per_day(decisions, stats.first_day, TODAY).items():
        start = max(day - timedelta(days=day.weekday()), stats.first_day)
        row = expected.setdefault(start, [0, 0, 0])
        for i in range(3):
            row[i] += counts[i]
    assert weeks == expected
    assert all(start.weekday() == 0 for start in list(weeks)[1:])
    assert "(more not shown)" not in text


def test_ten_years_fall_back_to_coarser_periods_and_still_fit():
    decisions = [Decision(NOW - n * 86_400, "answer", ENTRIES[n % 12]) for n in range(MAX_DAYS)]
    text = as_text(summarise(decisions, [], days=MAX_DAYS, now=NOW, titles=TITLES))
    assert len(text) <= DISCORD_LIMIT
    assert "Per year (answered/asked which one/unanswered):" in text


def test_a_tight_limit_drops_whole_lines_only(stats):
    full = as_text(stats).splitlines()
    cut = as_text(stats, limit=300)
    assert len(cut) <= 300
    kept = cut.splitlines()
    assert kept[-1] == "(more not shown)"
    assert kept[:4] == full[:4]
    whole_lines = re.compile(r"^(|Per year \(.*\):|\d{4}: \d+/\d+/\d+"
                             r"|Most asked entries .*:|\d\. Entry number \d+: \d+)$")
    assert all(whole_lines.match(line) for line in kept[4:-1]), kept


def test_an_empty_window_says_so():
    stats = summarise([], [], days=7, now=NOW, titles={})
    assert stats.total == 0 and stats.answered_share is None
    assert len(stats.per_day) == 7 and stats.top_entries == () and stats.votes == ()
    assert as_text(stats).splitlines()[1:] == ["No questions yet in this window.", "No votes yet."]


# --- the picture --------------------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == PNG_SIGNATURE
    chunks, at = [], 8
    while at < len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        chunks.append((data[at + 4 : at + 8], data[at + 8 : at + 8 + length]))
        at += 12 + length
    assert at == len(data) and chunks[-1][0] == b"IEND"
    return chunks


def png_size(data: bytes) -> tuple[int, int]:
    kind, body = png_chunks(data)[0]
    assert kind == b"IHDR"
    return int.from_bytes(body[0:4], "big"), int.from_bytes(body[4:8], "big")


def figure_texts(figure) -> list[str]:
    from matplotlib.text import Text

    return [t.get_text() for t in figure.findobj(Text) if t.get_visible() and t.get_text()]


def test_the_png_is_valid_and_exactly_the_size_asked(stats):
    assert png_size(render_png(stats)) == (1200, 900)
    assert png_size(render_png(stats, width_px=1001, height_px=677)) == (1001, 677)


def test_the_png_carries_no_time_or_software_stamp_and_renders_the_same_twice(stats):
    data = render_png(stats)
    assert not {kind for kind, _ in png_chunks(data)} & {b"tIME", b"tEXt", b"iTXt", b"zTXt"}
    assert render_png(stats) == data


def test_another_process_draws_the_same_bytes(stats):
    script = ("import sys, hashlib; from tests.test_stats import *; "
              "st = summarise(*seeded_records(), days=14, now=NOW, titles=TITLES); "
              "print(hashlib.sha256(render_png(st)).hexdigest())")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent.parent)
    assert out.stdout.strip() == hashlib.sha256(render_png(stats)).hexdigest()


def test_the_picture_shows_the_window_the_panels_and_the_entries_in_order(stats):
    figure = draw(stats)
    texts = figure_texts(figure)
    assert any("last 14 days: 1 Mar 2025 to 14 Mar 2025 (UTC)" in t for t in texts)
    assert {"answered", "asked which one", "unanswered", "helpful", "not helpful"} <= set(texts)
    days, top, votes = figure.axes
    assert (days.get_title("left"), top.get_title("left"), votes.get_title("left")) == \
        ("Questions per day", "Most asked entries", "Votes per entry")
    assert [t.get_text() for t in top.get_yticklabels()] == [e.title for e in stats.top_entries]
    assert [t.get_text() for t in votes.get_yticklabels()] == [v.title for v in stats.votes]
    heights = [sum(bar.get_height() for bar in bars) for bars in zip(*days.containers, strict=True)]
    assert heights == [d.total for d in stats.per_day]


def test_an_empty_window_draws_no_questions_yet_panels():
    stats = summarise([], [], days=7, now=NOW, titles={})
    assert png_size(render_png(stats)) == (1200, 900)
    texts = figure_texts(draw(stats))
    assert {"No questions yet in this window", "No answered questions yet", "No votes yet"} <= set(texts)


def test_titles_with_dollars_and_emoji_draw_literally_without_warnings():
    titles = {"a": "Do $5 bands fix hip dips? 🍑", "b": "Price: $10 to $20"}
    decisions = [Decision(NOW, "answer", "a"), Decision(NOW, "answer", "b")]
    stats = summarise(decisions, [Vote(NOW, "a", True)], days=3, now=NOW, titles=titles)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        texts = figure_texts(draw(stats))
        render_png(stats)
    assert r"Do \$5 bands fix hip dips?" in texts and r"Price: \$10 to \$20" in texts


def test_a_year_renders_with_touching_bars_at_the_right_size():
    decisions, votes = seeded_records(days=365, seed=11, quiet=set())
    assert png_size(render_png(summarise(decisions, votes, days=365, now=NOW, titles=TITLES))) == (1200, 900)


def test_sizes_out_of_range_are_refused(stats):
    for width in (0, 299, 6001, 1200.0):
        with pytest.raises(ValueError, match="width_px must be"):
            render_png(stats, width_px=width)


def test_importing_the_module_does_not_load_matplotlib_and_drawing_leaves_pyplot_alone():
    script = ("import sys, bot.stats as s; print('matplotlib' in sys.modules); "
              "s.render_png(s.summarise([], [], days=1, now=0, titles={})); print('matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent.parent)
    assert out.stdout.split() == ["False", "False"]
