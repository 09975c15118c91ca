"""Reports people want to look at: markdown for reading, the same data as structured content for
agents, tabular parts also as CSV, and charts as PNG images (matplotlib, imported on first chart).

matplotlib is the optional `charts` extra (~170 MB with numpy and pillow). Without it a chart is
not drawn: the result says so and how to get the picture; the same numbers are in its tables.

    table = Table("Departments", ["department", "violations"], rows)
    chart = bar_chart("Violations by department", "department", "violations (count)", labels, values)
    return report_result("Compliance", data, sections=[...markdown...], tables=[table], charts=[chart])
"""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._redact import redact

if TYPE_CHECKING:
    import mcp_types as t

__all__ = ["CHARTS_HINT", "Chart", "Table", "bar_chart", "charts_available", "line_chart", "markdown_table",
           "report_result"]


@dataclass(frozen=True)
class Table:
    """One tabular part: a title, column names, rows (dicts keyed by column). `unknown` (why its source
    could not be read) makes it say so instead of showing zero rows; it then has no CSV."""

    title: str
    columns: Sequence[str]
    rows: Sequence[dict[str, Any]]
    unknown: str = ""

    @property
    def slug(self) -> str:
        return "".join(c if c.isalnum() else "-" for c in self.title.lower()).strip("-")

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(self.columns), extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow({k: _cell(row.get(k)) for k in self.columns})
        return out.getvalue()


CHARTS_HINT = "pip install 'oneapi-mcp[charts]'"


@dataclass(frozen=True)
class Chart:
    """A drawn chart (`png`), or, without matplotlib, only its title (`png` is None)."""

    title: str
    png: bytes | None

    def content(self) -> t.ImageContent | t.TextContent:
        import mcp_types as t

        if self.png is None:
            return t.TextContent(type="text", text=f"Chart not drawn: {self.title}. matplotlib is not installed; "
                                                   f"`{CHARTS_HINT}` adds the picture. The tables hold the same data.")
        return t.ImageContent(type="image", data=base64.b64encode(self.png).decode("ascii"), mime_type="image/png")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    if isinstance(value, (list, tuple)):
        return "; ".join(_cell(v) for v in value)
    return str(value)


def markdown_table(table: Table, limit: int = 50) -> str:
    """A markdown table of at most `limit` rows (the CSV always has them all)."""
    def esc(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    if table.unknown:
        return f"**{table.title}**: unknown, not zero rows. {table.unknown}"
    lines = [f"**{table.title}**", "", "| " + " | ".join(table.columns) + " |",
             "|" + "|".join("---" for _ in table.columns) + "|"]
    for row in list(table.rows)[:limit]:
        lines.append("| " + " | ".join(esc(_cell(row.get(c))) for c in table.columns) + " |")
    if len(table.rows) > limit:
        lines.append(f"\n_{len(table.rows) - limit} more rows in the CSV._")
    if not table.rows:
        lines.append("| " + " | ".join("" for _ in table.columns) + " |")
    return "\n".join(lines)


def report_result(title: str, data: dict[str, Any], *, sections: Sequence[str] = (), tables: Sequence[Table] = (),
                  charts: Sequence[Chart] = (), is_error: bool = False) -> t.CallToolResult:
    """A tool result: markdown (title, sections, tables), each table as a CSV resource, each chart
    as a PNG image (without the charts extra: a note saying how to get it); structured content is
    `data` plus `csv` (table slug -> CSV text)."""
    import mcp_types as t

    parts = [f"# {title}", *sections, *(markdown_table(tb) for tb in tables)]
    known = [tb for tb in tables if not tb.unknown]
    structured = redact({**data, "csv": {tb.slug: tb.csv() for tb in known}} if known else dict(data), names=False)
    content: list[Any] = [t.TextContent(type="text", text="\n\n".join(p for p in parts if p))]
    for tb in known:
        content.append(t.EmbeddedResource(type="resource", resource=t.TextResourceContents(
            uri=f"oneapi-mcp://report/{tb.slug}.csv", mime_type="text/csv", text=tb.csv())))
    content.extend(chart.content() for chart in charts)
    return t.CallToolResult(content=content, structured_content=structured, is_error=is_error)


# -- charts ---------------------------------------------------------------------------------------
def charts_available() -> bool:
    """Whether the optional `charts` extra (matplotlib) is installed."""
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


def _figure(title: str, xlabel: str, ylabel: str):
    import matplotlib

    matplotlib.use("Agg")  # no display; safe in a server
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    ax.set_title(title, fontsize=13, fontweight="bold")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    return plt, fig, ax


def _png(plt, fig) -> bytes:
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out.getvalue()


def bar_chart(title: str, xlabel: str, ylabel: str, labels: Sequence[str], values: Sequence[float], *,
              target: float | None = None, target_label: str = "target") -> Chart:
    """Bars with their values written on them; an optional horizontal target line."""
    if not charts_available():
        return Chart(title, None)
    plt, fig, ax = _figure(title, xlabel, ylabel)
    if all(float(v).is_integer() for v in values):  # counts: no 0.5 ticks
        from matplotlib.ticker import MaxNLocator

        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    bars = ax.bar([str(lb) for lb in labels], values, color="#2f6db5")
    ax.bar_label(bars, fmt="%g", padding=2, fontsize=8)
    if target is not None:
        ax.axhline(target, color="#c0392b", linestyle="--", label=f"{target_label} ({target:g})")
        ax.legend(loc="upper right")
    if len(labels) > 6:
        plt.setp(ax.get_xticklabels(), rotation=30, ha="right")
    return Chart(title, _png(plt, fig))


def line_chart(title: str, xlabel: str, ylabel: str, x: Sequence[Any], series: dict[str, Sequence[float]]) -> Chart:
    """One line per series over a shared x axis (dates, hours, ...), with a legend."""
    if not charts_available():
        return Chart(title, None)
    plt, fig, ax = _figure(title, xlabel, ylabel)
    for name, values in series.items():
        ax.plot([str(v) for v in x], values, marker="o", markersize=3, label=name)
    if len(series) > 1:
        ax.legend(loc="best", fontsize=8)
    if len(x) > 8:
        step = max(1, len(x) // 8)
        for n, label in enumerate(ax.get_xticklabels()):
            label.set_visible(n % step == 0)
        plt.setp(ax.get_xticklabels(), rotation=30, ha="right")
    return Chart(title, _png(plt, fig))
