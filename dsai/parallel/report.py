"""Reporting measured figures beside their theory: one `Section` per experiment, as a table or JSON.

An experiment section of `dsai experiments` returns a `Section`: its JSON
value (a list of row dicts, or one dict) and the columns to print. The text
table puts each measured column next to the theory column it is checked
against, so a reader sees both at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = ["Column", "Section", "Progress"]

Progress = Callable[[str], None]  # prints one line about an experiment (on stderr)


@dataclass
class Column:
    key: str  # the row's key
    header: str  # the table's column title (with units)
    fmt: str = "{}"  # how a value prints: "{:,}", "{:.3f}", ...

    def show(self, value: Any) -> str:
        if value is None:
            return "-"
        if callable(self.fmt):
            return self.fmt(value)
        return self.fmt.format(value)


@dataclass
class Section:
    """One experiment's results: `data` goes into the JSON object under `name`."""

    name: str
    title: str
    data: Any  # a list of rows (dicts), or a dict
    columns: list[Column] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        return self.data if isinstance(self.data, list) else [self.data]

    def table(self) -> str:
        """The section as aligned text: a title, a header line, one line per row, notes."""
        cols = self.columns or [Column(k, k) for k in self.rows()[0]]
        cells = [[c.header for c in cols]] + [[c.show(r.get(c.key)) for c in cols] for r in self.rows()]
        widths = [max(len(line[i]) for line in cells) for i in range(len(cols))]
        lines = [f"== {self.title} =="]
        for j, line in enumerate(cells):
            lines.append("  ".join(v.rjust(w) for v, w in zip(line, widths)).rstrip())
            if j == 0:
                lines.append("  ".join("-" * w for w in widths))
        lines += [f"  {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Section({self.name!r}, {len(self.rows())} rows)"
