"""Progress bars for long transfers: tqdm on stderr, and only when stderr is a terminal, so
pipes, scripts and tests stay quiet."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Progress = Callable[[int], None]


@contextmanager
def progress(desc: str, total: Callable[[], int | None] | None = None) -> Iterator[Progress | None]:
    """A byte counter to call as bytes move, or ``None`` when stderr is not a terminal.
    ``total`` is computed only if a bar is shown."""
    if not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm  # imported only for terminals: it is the slowest import here

    with tqdm(
        total=total() if total else None,
        desc=desc,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=sys.stderr,
        leave=False,
    ) as bar:

        def update(n: int) -> None:
            bar.update(n)

        yield update
