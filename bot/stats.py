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
from functools import cache
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # matplotlib is imported only when a picture is drawn
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

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


# --- picture ----------------------------------------------------------------------------------------

# Okabe-Ito colours, told apart with the common colour-vision deficiencies; blue is good, vermillion bad.
ANSWERED_COLOUR = "#0072B2"
CLARIFIED_COLOUR = "#E69F00"
UNANSWERED_COLOUR = "#D55E00"
HELPFUL_COLOUR = ANSWERED_COLOUR
NOT_HELPFUL_COLOUR = UNANSWERED_COLOUR
DPI = 100
MIN_PX, MAX_PX = 300, 6000
PLOT_TITLE_CHARS = 34
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DAY_TICK_PX = 85  # room each day label needs
THIN_BARS_FROM = 90  # days; thinner bars than this alias, so they touch instead


def render_png(stats: Stats, *, width_px: int = 1200, height_px: int = 900) -> bytes:
    """One PNG of exactly `width_px` x `height_px`: questions per day, most asked entries, votes.

    Uses no pyplot state, so it may run in a worker thread; the same stats give the same bytes.
    """
    from io import BytesIO

    figure = draw(stats, width_px=width_px, height_px=height_px)
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def draw(stats: Stats, *, width_px: int = 1200, height_px: int = 900) -> "Figure":
    """The matplotlib Figure behind `render_png`, for other formats or a closer look."""
    for name, value in (("width_px", width_px), ("height_px", height_px)):
        if isinstance(value, bool) or not isinstance(value, int) or not MIN_PX <= value <= MAX_PX:
            raise ValueError(f"{name} must be a whole number from {MIN_PX} to {MAX_PX}, got {value!r}")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(2, 2, height_ratios=(1.1, 1))
    _draw_days(figure.add_subplot(grid[0, :]), stats, max_ticks=max(3, width_px // DAY_TICK_PX))
    _draw_top_entries(figure.add_subplot(grid[1, 0]), stats)
    _draw_votes(figure.add_subplot(grid[1, 1]), stats)
    figure.suptitle(f"Mythbot, last {_plural(stats.days, 'day')}: {_long_date(stats.first_day)} to "
                    f"{_long_date(stats.last_day)} (UTC)\n{_summary(stats)}", fontsize=14)
    return figure


def _summary(stats: Stats) -> str:
    if not stats.total:
        return "No questions yet"
    share = round(100 * (stats.answered_share or 0))
    return (f"{stats.total} questions, {share}% answered · {stats.helpful} helpful, "
            f"{stats.not_helpful} not helpful votes")


def _draw_days(ax: "Axes", stats: Stats, max_ticks: int) -> None:
    ax.set_title("Questions per day", loc="left", fontsize=12)
    if not stats.total:
        _say_empty(ax, "No questions yet in this window")
        return
    from matplotlib.ticker import MaxNLocator

    positions = range(stats.days)
    width = 1.0 if stats.days >= THIN_BARS_FROM else 0.8
    bottom = [0] * stats.days
    for label, colour, counts in (
        ("answered", ANSWERED_COLOUR, [d.answered for d in stats.per_day]),
        ("asked which one", CLARIFIED_COLOUR, [d.clarified for d in stats.per_day]),
        ("unanswered", UNANSWERED_COLOUR, [d.unanswered for d in stats.per_day]),
    ):
        ax.bar(positions, counts, bottom=bottom, width=width, color=colour, linewidth=0, label=label)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    ticks = list(range(stats.days - 1, -1, -_tick_step(stats.days, max_ticks)))[::-1]
    ax.set_xticks(ticks, _day_labels([stats.per_day[i].day for i in ticks]))
    ax.set_xlim(-0.6, stats.days - 0.4)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("Day (UTC)")
    ax.set_ylabel("Questions")
    ax.set_ylim(0, max(bottom) * 1.25)  # headroom for the legend over the bars
    ax.legend(loc="upper left", ncols=3, frameon=False)
    _tidy(ax)


def _draw_top_entries(ax: "Axes", stats: Stats) -> None:
    ax.set_title("Most asked entries", loc="left", fontsize=12)
    if not stats.top_entries:
        _say_empty(ax, "No answered questions yet")
        return
    from matplotlib.ticker import MaxNLocator

    labels = [_drawable(_short(e.title, PLOT_TITLE_CHARS)) for e in stats.top_entries]
    bars = ax.barh(range(len(labels)), [e.answered for e in stats.top_entries], color=ANSWERED_COLOUR)
    ax.bar_label(bars, padding=3)
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    ax.set_xlabel("Times answered")
    ax.set_xlim(0, stats.top_entries[0].answered * 1.15)  # room for the labels
    _tidy(ax)


def _draw_votes(ax: "Axes", stats: Stats) -> None:
    ax.set_title("Votes per entry", loc="left", fontsize=12)
    if not stats.votes:
        _say_empty(ax, "No votes yet")
        return
    from matplotlib.ticker import MaxNLocator

    labels = [_drawable(_short(v.title, PLOT_TITLE_CHARS)) for v in stats.votes]
    helpful = [v.helpful for v in stats.votes]
    good = ax.barh(range(len(labels)), helpful, color=HELPFUL_COLOUR, label="helpful")
    bars = ax.barh(range(len(labels)), [v.not_helpful for v in stats.votes], left=helpful,
                   color=NOT_HELPFUL_COLOUR, label="not helpful")
    ax.bar_label(bars, [f"{v.helpful} / {v.not_helpful}" for v in stats.votes], padding=3)
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    ax.set_xlabel("Votes")
    ax.set_xlim(0, max(v.total for v in stats.votes) * 1.2)  # room for the labels; margins() stops at stacked bars
    # Outside the panel, in room the layout keeps for it: inside, a long bar could run under it.
    ax.figure.legend(handles=[good, bars], loc="outside lower right", ncols=2, frameon=False)
    _tidy(ax)


def _say_empty(ax: "Axes", message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=13, color="#555555", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("#cccccc")


def _tidy(ax: "Axes") -> None:
    ax.spines[["top", "right"]].set_visible(False)


def _tick_step(days: int, max_ticks: int) -> int:
    step = -(-days // max_ticks)
    return 7 * -(-step // 7) if step > 3 else step  # whole weeks once ticks are sparse


def _day_labels(days: list[date]) -> list[str]:
    labels = []
    for position, day in enumerate(days):
        label = f"{day.day} {MONTHS[day.month - 1]}"
        if position == 0 or day.year != days[position - 1].year:
            label += f"\n{day.year}"
        labels.append(label)
    return labels


def _long_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _drawable(text: str) -> str:
    """Text as matplotlib draws it literally: no mathtext, no characters the font lacks (emoji)."""
    glyphs = _font_glyphs()
    kept = "".join(c for c in text if ord(c) in glyphs or c == " ").strip()
    return kept.replace("$", r"\$") or "?"


@cache
def _font_glyphs() -> frozenset[int]:
    """The characters the font matplotlib draws with has."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    return frozenset(FT2Font(font_manager.findfont(font_manager.FontProperties())).get_charmap())
