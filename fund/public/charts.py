"""Geometry of the public page's SVG charts, computed on the server so the page needs no JS.

Coordinates are returned as strings with one decimal place, ready for SVG attributes: the CSP
forbids inline style attributes, so bar lengths are SVG `width`/`height` attributes. Amounts stay
in minor units; templates format them.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from fund.ledger.progress import MonthFlow, Progress

THERMOMETER_WIDTH = 1000
CHART_WIDTH = 640
CHART_HEIGHT = 300
PLOT_LEFT = 64
PLOT_RIGHT = CHART_WIDTH - 8
PLOT_TOP = 16
PLOT_BOTTOM = CHART_HEIGHT - 48
BAR_WIDTH = 17
BAR_GAP = 3


def _n(value: float) -> str:
    return f"{value:.1f}"


@dataclass(frozen=True)
class Segment:
    """One coloured stretch of the thermometer."""

    key: str
    x: str
    width: str


@dataclass(frozen=True)
class Thermometer:
    """Raised money against the goal, split into spent, out in bonds and the rest."""

    width: int
    segments: list[Segment]
    goal_x: str | None
    percent: int


def thermometer(progress: Progress) -> Thermometer:
    """Return the thermometer for a fund's progress: the bar is the goal (or raised, if more)."""
    goal, raised = int(progress.goal), max(int(progress.raised), 0)
    scale = max(goal, raised, 1)
    spent = min(max(int(progress.spent), 0), raised)
    bonds = min(max(int(progress.in_bonds), 0), raised - spent)
    rest = raised - spent - bonds
    segments = []
    x = 0.0
    for key, amount in (("spent", spent), ("bonds", bonds), ("raised", rest)):
        if amount <= 0:
            continue
        width = THERMOMETER_WIDTH * amount / scale
        segments.append(Segment(key, _n(x), _n(width)))
        x += width
    goal_x = _n(THERMOMETER_WIDTH * goal / scale) if goal and raised > goal else None
    percent = 100 * raised // goal if goal else 0
    return Thermometer(THERMOMETER_WIDTH, segments, goal_x, percent)


@dataclass(frozen=True)
class Bar:
    x: str
    y: str
    height: str


@dataclass(frozen=True)
class MonthColumn:
    month: date
    raised_cents: int
    spent_cents: int
    raised: Bar
    spent: Bar
    label_x: str
    year_label: str


@dataclass(frozen=True)
class Tick:
    cents: int
    y: str


@dataclass(frozen=True)
class MonthlyChart:
    """Bars of money raised and spent per month, with a y axis of round amounts."""

    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    columns: list[MonthColumn]
    ticks: list[Tick]
    label_y: int
    year_y: int
    largest_raised_cents: int
    largest_spent_cents: int
    bar_width: int = BAR_WIDTH

    @property
    def first_month(self) -> date | None:
        return self.columns[0].month if self.columns else None

    @property
    def last_month(self) -> date | None:
        return self.columns[-1].month if self.columns else None


def monthly_chart(flows: Sequence[MonthFlow]) -> MonthlyChart:
    """Return the monthly in/out bar chart for the given months, oldest first."""
    largest = max((max(f.raised_cents, f.spent_cents, 0) for f in flows), default=0)
    step = _nice_step(largest)
    top = max(step * 4, step * -(-largest // step)) if largest else step * 4
    plot_height = PLOT_BOTTOM - PLOT_TOP

    def y_of(cents: int) -> float:
        return PLOT_BOTTOM - plot_height * max(cents, 0) / top

    group = (PLOT_RIGHT - PLOT_LEFT) / max(len(flows), 1)
    columns = []
    for index, flow in enumerate(flows):
        middle = PLOT_LEFT + group * (index + 0.5)
        raised_y = y_of(flow.raised_cents)
        spent_y = y_of(flow.spent_cents)
        # Years label January, and the first column unless January comes right after it.
        first_of_year = flow.month.month == 1 or (index == 0 and flow.month.month != 12)
        columns.append(
            MonthColumn(
                month=flow.month,
                raised_cents=flow.raised_cents,
                spent_cents=flow.spent_cents,
                raised=_bar(middle - BAR_GAP / 2 - BAR_WIDTH, raised_y),
                spent=_bar(middle + BAR_GAP / 2, spent_y),
                label_x=_n(middle),
                year_label=str(flow.month.year) if first_of_year else "",
            )
        )
    ticks = [Tick(cents, _n(y_of(cents))) for cents in range(0, top + 1, step)]
    return MonthlyChart(
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        plot_left=PLOT_LEFT,
        plot_right=PLOT_RIGHT,
        plot_top=PLOT_TOP,
        plot_bottom=PLOT_BOTTOM,
        columns=columns,
        ticks=ticks,
        label_y=PLOT_BOTTOM + 20,
        year_y=PLOT_BOTTOM + 42,
        largest_raised_cents=max((f.raised_cents for f in flows), default=0),
        largest_spent_cents=max((f.spent_cents for f in flows), default=0),
    )


def _bar(x: float, y: float) -> Bar:
    return Bar(_n(x), _n(y), _n(PLOT_BOTTOM - y))


def _nice_step(largest: int) -> int:
    """Return a round tick step in cents (1, 2, 2.5 or 5 times a power of ten) for ~4 ticks."""
    rough = max(largest // 4, 100)
    magnitude = 100
    while magnitude * 10 <= rough:
        magnitude *= 10
    for factor in (1, 2, 2.5, 5, 10):
        step = int(magnitude * factor)
        if step >= rough:
            return step
    return magnitude * 10  # pragma: no cover


@dataclass(frozen=True)
class CategoryBar:
    name: str
    cents: int
    width: str
    percent: int


def category_bars(categories: Sequence[tuple[str, int]]) -> list[CategoryBar]:
    """Return spending categories with bar widths (0-100) relative to the largest one."""
    largest = max((cents for _, cents in categories), default=0)
    total = sum(cents for _, cents in categories)
    return [
        CategoryBar(
            name=name,
            cents=cents,
            width=_n(100 * max(cents, 0) / largest) if largest > 0 else "0.0",
            percent=round(100 * cents / total) if total > 0 else 0,
        )
        for name, cents in categories
    ]
