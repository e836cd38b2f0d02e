"""How the bot did over the last days: questions per day, the most asked entries, and votes.

Pure figures from plain records (no Discord, no storage): `summarise` counts, `as_text` writes the
numbers for screen readers and the command line, `render_png` draws them (matplotlib is imported
only there, so importing this module stays cheap).

Days are UTC calendar days. A window of `days` days ends with the UTC day that contains `now`;
records dated before its first day or after its last day are left out.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

Status = Literal["answer", "clarify", "none"]
STATUSES: tuple[str, ...] = ("answer", "clarify", "none")
SECONDS_PER_DAY = 86_400
EPOCH = date(1970, 1, 1)
MAX_DAYS = 3660  # ten years: beyond that a per-day series stops meaning anything
TOP = 8
DISCORD_LIMIT = 2000
TITLE_WIDTHS = (40, 28)  # entry titles are shortened to the first width at which the text fits
DAILY_TEXT_UP_TO = 31  # longer windows are summarised by week (or coarser) in the text


@dataclass(frozen=True)
class Decision:
    """One question the bot decided on: answered, asked which one was meant, or found nothing."""

    created_at: float
    status: Status
    entry_id: str | None = None


@dataclass(frozen=True)
class Vote:
    """One helpful / not-helpful vote on an answer."""

    created_at: float
    entry_id: str
    helpful: bool


@dataclass(frozen=True)
class DayCount:
    day: date
    answered: int = 0
    clarified: int = 0
    unanswered: int = 0

    @property
    def total(self) -> int:
        return self.answered + self.clarified + self.unanswered


@dataclass(frozen=True)
class EntryCount:
    entry_id: str
    title: str
    answered: int


@dataclass(frozen=True)
class EntryVotes:
    entry_id: str
    title: str
    helpful: int
    not_helpful: int

    @property
    def total(self) -> int:
        return self.helpful + self.not_helpful


@dataclass(frozen=True)
class Stats:
    """The figures for one window; `per_day` has every day of it, oldest first, zero days included."""

    first_day: date
    last_day: date
    per_day: tuple[DayCount, ...]
    top_entries: tuple[EntryCount, ...]  # most answered first, at most TOP
    votes: tuple[EntryVotes, ...]  # most voted first, at most TOP
    helpful: int  # over every entry, not only the top ones
    not_helpful: int

    @property
    def days(self) -> int:
        return len(self.per_day)

    @property
    def answered(self) -> int:
        return sum(d.answered for d in self.per_day)

    @property
    def clarified(self) -> int:
        return sum(d.clarified for d in self.per_day)

    @property
    def unanswered(self) -> int:
        return sum(d.unanswered for d in self.per_day)

    @property
    def total(self) -> int:
        return sum(d.total for d in self.per_day)

    @property
    def answered_share(self) -> float | None:
        """Answered questions as a share of all questions (0-1); None when nobody asked anything."""
        return self.answered / self.total if self.total else None


def summarise(decisions: Iterable[Decision], votes: Iterable[Vote], *, days: int, now: float,
              titles: Mapping[str, str]) -> Stats:
    """Count the window of `days` UTC days ending with the day of `now`; `titles` names entries by id."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be a whole number from 1 to {MAX_DAYS}, got {days!r}")
    last = _epoch_day(now)
    first = last - days + 1
    per_day = [[0, 0, 0] for _ in range(days)]
    answered: Counter[str] = Counter()
    for position, decision in enumerate(decisions):
        if decision.status not in STATUSES:
            raise ValueError(f"decision {position}: status must be one of {', '.join(STATUSES)}, "
                             f"got {decision.status!r}")
        day = _epoch_day(decision.created_at)
        if first <= day <= last:
            per_day[day - first][STATUSES.index(decision.status)] += 1
            if decision.status == "answer" and decision.entry_id:
                answered[decision.entry_id] += 1
    helpful: Counter[str] = Counter()
    not_helpful: Counter[str] = Counter()
    for vote in votes:
        if first <= _epoch_day(vote.created_at) <= last:
            (helpful if vote.helpful else not_helpful)[vote.entry_id] += 1
    return Stats(
        first_day=EPOCH + timedelta(days=first),
        last_day=EPOCH + timedelta(days=last),
        per_day=tuple(DayCount(EPOCH + timedelta(days=first + i), *counts) for i, counts in enumerate(per_day)),
        top_entries=_top_entries(answered, titles),
        votes=_top_votes(helpful, not_helpful, titles),
        helpful=sum(helpful.values()),
        not_helpful=sum(not_helpful.values()),
    )


def _epoch_day(timestamp: float) -> int:
    # Unix time has no leap seconds, so whole days since the epoch are UTC calendar days.
    return int(timestamp // SECONDS_PER_DAY)


def _top_entries(answered: Counter[str], titles: Mapping[str, str]) -> tuple[EntryCount, ...]:
    ranked = sorted(answered.items(), key=lambda item: (-item[1], item[0]))[:TOP]
    return tuple(EntryCount(entry_id, titles.get(entry_id, entry_id), count) for entry_id, count in ranked)


def _top_votes(helpful: Counter[str], not_helpful: Counter[str],
               titles: Mapping[str, str]) -> tuple[EntryVotes, ...]:
    rows = [EntryVotes(entry_id, titles.get(entry_id, entry_id), helpful[entry_id], not_helpful[entry_id])
            for entry_id in helpful.keys() | not_helpful.keys()]
    rows.sort(key=lambda row: (-row.total, -row.helpful, row.entry_id))
    return tuple(rows[:TOP])


# --- text -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Grain:
    heading: str
    start: Callable[[date], date]  # the first day of the period a day falls in
    label: Callable[[date], str]


_GRAINS = (
    _Grain("Per day", lambda d: d, lambda d: d.isoformat()),
    _Grain("Per week starting", lambda d: d - timedelta(days=d.weekday()), lambda d: d.isoformat()),
    _Grain("Per month", lambda d: d.replace(day=1), lambda d: f"{d.year}-{d.month:02d}"),
    _Grain("Per year", lambda d: d.replace(month=1, day=1), lambda d: str(d.year)),
)


def as_text(stats: Stats, *, limit: int = DISCORD_LIMIT) -> str:
    """The figures as short plain text, at most `limit` characters, cut only between whole lines.

    Windows longer than a month are listed by week (Monday first, the first week from the window's
    first day); entry titles are shortened further, then the periods made months or years, when
    the text would not fit otherwise.
    """
    head = _head_lines(stats)
    grains = _GRAINS if stats.days <= DAILY_TEXT_UP_TO else _GRAINS[1:]
    text = ""
    for grain in grains:
        for width in TITLE_WIDTHS:
            text = "\n".join([*head, *_period_lines(stats, grain), *_entry_lines(stats, width),
                              *_vote_lines(stats, width)])
            if len(text) <= limit:
                return text
    return _fit(text.split("\n"), limit)


def _head_lines(stats: Stats) -> list[str]:
    window = f"{stats.first_day.isoformat()} to {stats.last_day.isoformat()}, UTC"
    lines = [f"Last {_plural(stats.days, 'day')} ({window})"]
    if stats.total:
        share = round(100 * (stats.answered_share or 0))
        lines.append(f"Questions: {stats.total}. Answered {stats.answered} ({share}%), "
                     f"asked which one {stats.clarified}, unanswered {stats.unanswered}.")
    else:
        lines.append("No questions yet in this window.")
    if stats.helpful or stats.not_helpful:
        lines.append(f"Votes: {stats.helpful} helpful, {stats.not_helpful} not helpful.")
    else:
        lines.append("No votes yet.")
    return lines


def _period_lines(stats: Stats, grain: _Grain) -> list[str]:
    if not stats.total:
        return []
    periods: dict[date, list[int]] = {}
    for day in stats.per_day:
        start = max(grain.start(day.day), stats.first_day)
        counts = periods.setdefault(start, [0, 0, 0])
        counts[0] += day.answered
        counts[1] += day.clarified
        counts[2] += day.unanswered
    lines = ["", f"{grain.heading} (answered/asked which one/unanswered):"]
    lines += [f"{grain.label(start)}: {a}/{c}/{u}" for start, (a, c, u) in periods.items()]
    return lines


def _entry_lines(stats: Stats, title_width: int) -> list[str]:
    if not stats.top_entries:
        return []
    lines = ["", "Most asked entries (times answered):"]
    lines += [f"{rank}. {_short(row.title, title_width)}: {row.answered}"
              for rank, row in enumerate(stats.top_entries, 1)]
    return lines


def _vote_lines(stats: Stats, title_width: int) -> list[str]:
    if not stats.votes:
        return []
    lines = ["", "Votes per entry (helpful/not helpful):"]
    lines += [f"{_short(row.title, title_width)}: {row.helpful}/{row.not_helpful}" for row in stats.votes]
    return lines


def _fit(lines: list[str], limit: int) -> str:
    """Drop whole lines from the end until the text and a closing note fit in `limit`."""
    note = "(more not shown)"
    while lines and len("\n".join([*lines, note])) > limit:
        lines.pop()
    if lines:
        return "\n".join([*lines, note])
    return note if len(note) <= limit else ""


def _short(title: str, chars: int) -> str:
    title = " ".join(title.split())
    return title if len(title) <= chars else title[: chars - 1].rstrip() + "…"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
