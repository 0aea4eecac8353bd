"""Pipeline `edges`: one datum per image; writes its edges to /pfs/out/<same name>.

Called by loxo as ``transform.python: "edges:run"`` in a warm worker process (run.sh puts
this folder on PYTHONPATH), once per datum. ``datum.inputs["images"]`` is the one image
file the glob ``/*`` matched for this datum; ``datum.out`` is the datum's ``/pfs/out``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PIL import Image, ImageFilter, ImageOps

if TYPE_CHECKING:
    from loxo.execution.pyfunc import Datum


def run(datum: Datum) -> None:
    src = datum.inputs["images"]
    with Image.open(src) as img:
        edges = ImageOps.grayscale(img).filter(ImageFilter.FIND_EDGES)
    edges.save(datum.out / f"{src.stem}.png")
    print(f"{src.name}: {edges.width}x{edges.height}, edges written")  # goes to `loxo logs`
