"""Formatting for the CLI: aligned tables, human sizes and times, JSON and YAML records.

Pure functions over plain values, plus :class:`Output`, which prints records in the format a
command was asked for: a table (lists) or ``Key: value`` lines (one record), or the records'
``to_dict()`` as JSON or YAML. Machine formats always carry full values (sizes in bytes,
times as unix seconds); only tables are humanized.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Protocol, TypeVar

import click
import yaml

FORMATS = ("table", "json", "yaml")
NONE = "-"

_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
_SPANS = ((60.0, "second", 1.0), (3600.0, "minute", 60.0), (86400.0, "hour", 3600.0))
_DURATIONS = ((86400, "d", 3600, "h"), (3600, "h", 60, "m"), (60, "m", 1, "s"))


class Record(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


R = TypeVar("R", bound=Record)


def human_size(n: int) -> str:
    """``512 B``, ``1.0 KiB``, ``1.2 MiB`` (powers of 1024)."""
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in _UNITS:
        value /= 1024
        if value < 1024 or unit == _UNITS[-1]:
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


def relative_time(t: float, now: float | None = None) -> str:
    """``just now``, ``3 seconds ago``, ``1 hour ago``, ``12 days ago``; ``in ...`` if future."""
    delta = (time.time() if now is None else now) - t
    ago, span = delta >= 0, abs(delta)
    if span < 1:
        return "just now"
    count, unit = int(span // 86400), "day"
    for limit, name, size in _SPANS:
        if span < limit:
            count, unit = int(span // size), name
            break
    text = f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{text} ago" if ago else f"in {text}"


def human_duration(seconds: float) -> str:
    """``0.4s``, ``2.3s``, ``42s``, ``1m4s``, ``2h3m``, ``3d4h``."""
    if seconds < 10:
        return f"{max(seconds, 0.0):.1f}s"
    whole = int(seconds)
    for size, unit, small_size, small_unit in _DURATIONS:
        if whole >= size:
            return f"{whole // size}{unit}{whole % size // small_size}{small_unit}"
    return f"{whole}s"


def truncate(text: str, width: int) -> str:
    """``text`` on one line, cut to ``width`` characters with ``...`` if longer."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: max(width - 3, 0)] + "..."


def iso_time(t: float) -> str:
    """Local time in ISO 8601 with its UTC offset, to the second."""
    return datetime.fromtimestamp(t).astimezone().isoformat(timespec="seconds")


def format_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces, headers first; no trailing blanks."""
    lines = [list(headers), *(list(r) for r in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(headers))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def format_fields(fields: Sequence[tuple[str, str]]) -> str:
    """``Key: value`` lines with the values aligned."""
    width = max((len(k) for k, _ in fields), default=0) + 1
    return "\n".join(f"{k + ':':<{width}} {v}".rstrip() for k, v in fields)


def plain(value: Any) -> Any:
    """``value`` with enums, tuples and other str/int subclasses turned into plain JSON types
    (YAML's safe dumper accepts nothing else)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, bool) or value is None:
        return value
    for kind in (str, int, float):
        if isinstance(value, kind):
            return kind(value)
    return str(value)


def dump(data: Any, fmt: str) -> str:
    """``data`` as JSON (indented) or YAML (block style, keys in record order)."""
    data = plain(data)
    if fmt == "json":
        return json.dumps(data, indent=2)
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False).rstrip("\n")


@dataclass(frozen=True)
class Output:
    """How a command prints records: ``format`` is one of :data:`FORMATS`."""

    format: str = "table"
    full_timestamps: bool = False

    def when(self, t: float | None) -> str:
        if t is None:
            return NONE
        return iso_time(t) if self.full_timestamps else relative_time(t)

    def many(
        self, records: Sequence[R], headers: Sequence[str], row: Callable[[R], Sequence[str]]
    ) -> None:
        """A table with one ``row(record)`` per record, or a JSON/YAML list."""
        if self.format == "table":
            click.echo(format_table(headers, (row(r) for r in records)))
        else:
            click.echo(dump([r.to_dict() for r in records], self.format))

    def one(self, record: R, fields: Callable[[R], Sequence[tuple[str, str]]]) -> None:
        """``Key: value`` lines from ``fields(record)``, or one JSON/YAML mapping."""
        if self.format == "table":
            click.echo(format_fields(fields(record)))
        else:
            click.echo(dump(record.to_dict(), self.format))
