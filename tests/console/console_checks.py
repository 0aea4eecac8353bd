"""The transform of the console tests' failing pipeline ``checks``: one datum per image; it
prints a line for each and refuses ``star.png`` on purpose, so the console has a failed
datum with an error and a log line to show."""

from __future__ import annotations

from typing import Any

REFUSED = "star.png"


def run(datum: Any) -> None:
    src = datum.inputs["images"]
    print(f"checking {src.name}")
    if src.name == REFUSED:
        raise ValueError(f"{src.name} is refused on purpose by the console tests")
    (datum.out / f"{src.stem}.txt").write_text(f"{src.name}: {src.stat().st_size} bytes, ok\n")
