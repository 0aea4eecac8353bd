"""Pipeline `montage`: one datum (glob ``/``) with every edge image; tiles them in a grid.

``datum.inputs["edges"]`` is the whole ``edges`` output commit as a directory. Images are
placed in name order, COLUMNS per row, each in a TILE x TILE cell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PIL import Image

if TYPE_CHECKING:
    from loxo.execution.pyfunc import Datum

TILE = 128
COLUMNS = 4


def run(datum: Datum) -> None:
    paths = sorted(datum.inputs["edges"].glob("*.png"))
    rows = max(1, -(-len(paths) // COLUMNS))
    sheet = Image.new("L", (COLUMNS * TILE, rows * TILE))
    for i, path in enumerate(paths):
        with Image.open(path) as img:
            tile = img.convert("L").resize((TILE, TILE))
        sheet.paste(tile, ((i % COLUMNS) * TILE, (i // COLUMNS) * TILE))
    sheet.save(datum.out / "montage.png")
    print(f"montage of {len(paths)} images: {sheet.width}x{sheet.height}")
