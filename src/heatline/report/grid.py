"""A table of one-line cells, laid out in one pass and written as rich writes its tables.

rich's Table measures and renders every cell as a renderable of its own, and the console then
crops every line: a 20,000-line profile took 12 s to print. Every table of the text reports has
one line per row, so a Grid measures each cell once (its cell length), fixes the widths, and
writes each row as one string (`lines`). What it writes is what
`rich.table.Table(box=SIMPLE_HEAD or an ASCII one, show_edge=False, pad_edge=False,
padding=(0, 1, 0, 0), header_style="bold")` wrote for the same rows, styles aside (rich also
colors the padding; tests/test_terminal_report.py compares the two): columns apart by two spaces
(the cell's padding and the box's divider), the headers in bold, a rule under them; when the
rows are wider than the console, the widest columns that may shrink (not `no_wrap`, no fixed
width) give way first, and then, if that is not enough, every column alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

from rich.style import StyleType

from rich.cells import cell_len
from rich.console import Console
from rich.style import Style
from rich.text import Text

# A cell: a Text, a string, a string with its style (a piece), or pieces side by side. Pieces
# cost a tenth of a Text to make and write: the reports' numbers and bars are pieces.
Piece = tuple[str, StyleType]
Cell = Union[Text, str, Piece, list[Piece]]

# Columns between two columns: the cell's right padding and the box's divider.
GAP = 2
HEADER_STYLE = "bold"


@dataclass
class _Column:
    header: str
    justify: str  # "left" or "right"
    no_wrap: bool
    width: Optional[int]  # fixed width, or None: its widest cell's

    @property
    def shrinks(self) -> bool:
        return self.width is None and not self.no_wrap


@dataclass
class Grid:
    """Columns (add_column), then rows of Text or str cells (add_row), written by `lines`."""

    rule: str  # the character of the rule under the headers
    columns: list[_Column] = field(default_factory=list)
    rows: list[list[tuple[Union[Text, list[Piece]], int]]] = field(default_factory=list)  # with cell lengths

    def add_column(self, header: str, *, justify: str = "left", no_wrap: bool = False,
                   width: Optional[int] = None) -> None:
        self.columns.append(_Column(header, justify, no_wrap, width))

    def add_row(self, *cells: Cell) -> None:
        self.rows.append([_measured(cell) for cell in cells])

    def widths(self, max_width: int) -> list[int]:
        """Each column's width: its widest cell, or its fixed width, then fitted to `max_width`."""
        widths = [column.width if column.width is not None else cell_len(column.header) for column in self.columns]
        for index, column in enumerate(self.columns):
            if column.width is None:
                widths[index] = max([widths[index]] + [row[index][1] for row in self.rows])
        # As rich does: a column's width counts its cell's right padding (none for the last),
        # and the columns are apart by the box's divider.
        last = len(widths) - 1
        padded = [(width + (index < last)) or 1 for index, width in enumerate(widths)]
        excess = sum(padded) + last - max_width
        if excess > 0:
            padded = _shrink(padded, [column.shrinks for column in self.columns], excess)
            excess = sum(padded) + last - max_width
        if excess > 0:
            padded = _reduce(padded, [True] * len(padded), excess)
        return [max(width - (index < last), 0) for index, width in enumerate(padded)]

    def lines(self, console: Console) -> list[str]:
        """The table as `console` would write it at its width: headers, rule, one line a row."""
        if not self.columns:
            return []
        widths = self.widths(console.width)
        styled = _Styler(console)
        headers = [_measured((column.header, HEADER_STYLE)) for column in self.columns]
        rule = self.rule * (sum(widths) + GAP * (len(widths) - 1))
        return ([self._line(styled, headers, widths), rule]
                + [self._line(styled, row, widths) for row in self.rows])

    def _line(self, styled: _Styler, cells: list[tuple[Union[Text, list[Piece]], int]], widths: list[int]) -> str:
        parts = []
        for index, ((cell, length), column, width) in enumerate(zip(cells, self.columns, widths)):
            if index:
                parts.append(" " * GAP)
            if length > width:
                cell = cell.copy() if isinstance(cell, Text) else Text.assemble(*cell)
                cell.truncate(width, overflow=cell.overflow or "ellipsis")
                length = cell.cell_len
            space = " " * (width - length)
            if column.justify == "right":
                parts.append(space)
            parts.append(styled(cell))
            if column.justify != "right":
                parts.append(space)
        return "".join(parts)


class _Styler:
    """A cell's text with the console's codes for its styles (none without color). The codes of
    each style are taken once, from the console itself."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.plain = console.color_system is None
        self.codes: dict[Union[str, Style], tuple[str, str]] = {}

    def __call__(self, cell: Union[Text, list[Piece]]) -> str:
        if not isinstance(cell, Text):
            if self.plain:
                return cell[0][0] if len(cell) == 1 else "".join(text for text, _ in cell)
            return "".join(self.wrap(text, style) for text, style in cell)
        if self.plain:
            return cell.plain
        if not cell.spans:
            return self.wrap(cell.plain, cell.style)
        return "".join(self.wrap(segment.text, segment.style or "")
                       for segment in cell.render(self.console, end=""))

    def wrap(self, text: str, style: Union[str, Style]) -> str:
        if not text or not style:
            return text
        if style not in self.codes:
            with self.console.capture() as capture:
                self.console.print(Text("x", style=style), end="")
            before, _, after = capture.get().partition("x")
            self.codes[style] = (before, after)
        before, after = self.codes[style]
        return before + text + after


def _measured(cell: Cell) -> tuple[Union[Text, list[Piece]], int]:
    """The cell as a Text or pieces, with its cell length."""
    if isinstance(cell, str):
        return [(cell, "")], cell_len(cell)
    if isinstance(cell, tuple):
        return [cell], cell_len(cell[0])
    if isinstance(cell, Text):
        return cell, cell_len(cell.plain)
    return cell, sum(cell_len(text) for text, _ in cell)


def width_of(cell: Cell) -> int:
    """The columns `cell` takes."""
    return _measured(cell)[1]


def _shrink(widths: list[int], shrinks: list[bool], excess: int) -> list[int]:
    """The widest columns that may shrink give way first, down to the next widest, until
    `excess` columns are taken (rich's Table._collapse_widths)."""
    widths = list(widths)
    while excess > 0 and any(shrinks):
        widest = max(width for width, may in zip(widths, shrinks) if may)
        next_widest = max((width for width, may in zip(widths, shrinks) if may and width != widest), default=0)
        if widest == next_widest or widest == 0:
            break
        taken = _reduce(widths, [may and width == widest for width, may in zip(widths, shrinks)],
                        excess, limit=min(excess, widest - next_widest))
        excess -= sum(widths) - sum(taken)
        widths = taken
    return widths


def _reduce(widths: list[int], chosen: list[bool], total: int, limit: Optional[int] = None) -> list[int]:
    """`total` columns taken from the chosen columns evenly, at most `limit` from each (their whole
    width when None), in rich's rounding (rich._ratio.ratio_reduce with equal ratios)."""
    remaining_total, remaining_count = total, sum(chosen)
    result = []
    for width, is_chosen in zip(widths, chosen):
        if is_chosen and remaining_count:
            taken = min(width if limit is None else limit, round(remaining_total / remaining_count))
            result.append(width - taken)
            remaining_total -= taken
            remaining_count -= 1
        else:
            result.append(width)
    return result
