"""Draw small test images (128x128 PNG): shapes and gradients, no downloads.

`python make_images.py OUT_DIR` draws the first batch (eight images);
`python make_images.py OUT_DIR --extra` draws only the image added later.
"""

import argparse
import math
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw

SIZE = 128
Painter = Callable[[ImageDraw.ImageDraw], None]


def gradient(horizontal: bool) -> Image.Image:
    img = Image.new("RGB", (SIZE, SIZE))
    for i in range(SIZE):
        step = i // 16 * 16  # bands of 16 pixels: visible edges between them
        colour = (step * 2, step + 32, 255 - step)
        box = (i, 0, i, SIZE) if horizontal else (0, i, SIZE, i)
        ImageDraw.Draw(img).line(box, fill=colour)
    return img


def circle(d: ImageDraw.ImageDraw) -> None:
    d.ellipse((24, 24, 104, 104), fill=(230, 80, 60))


def square(d: ImageDraw.ImageDraw) -> None:
    d.rectangle((30, 30, 98, 98), fill=(60, 160, 80))


def triangle(d: ImageDraw.ImageDraw) -> None:
    d.polygon([(64, 16), (112, 108), (16, 108)], fill=(240, 200, 40))


def rings(d: ImageDraw.ImageDraw) -> None:
    for r in range(56, 0, -12):
        d.ellipse((64 - r, 64 - r, 64 + r, 64 + r), outline=(40, 40, 200), width=5)


def stripes(d: ImageDraw.ImageDraw) -> None:
    for x in range(-SIZE, SIZE, 20):
        d.line((x, SIZE, x + SIZE, 0), fill=(200, 60, 160), width=7)


def checker(d: ImageDraw.ImageDraw) -> None:
    for row in range(8):
        for col in range(8):
            if (row + col) % 2:
                d.rectangle((col * 16, row * 16, col * 16 + 15, row * 16 + 15), fill=(30, 30, 30))


def star(d: ImageDraw.ImageDraw) -> None:
    points = []
    for k in range(10):
        r = 56 if k % 2 == 0 else 22
        a = math.pi / 2 + k * math.pi / 5
        points.append((64 + r * math.cos(a), 64 - r * math.sin(a)))
    d.polygon(points, fill=(250, 140, 0))


def diamond(d: ImageDraw.ImageDraw) -> None:
    d.polygon([(64, 10), (118, 64), (64, 118), (10, 64)], fill=(20, 180, 200))


# name -> (background, painter); the backgrounds alternate plain colours and gradients
FIRST_BATCH: dict[str, tuple[str, Painter | None]] = {
    "circle": ("white", circle),
    "square": ("hgrad", square),
    "triangle": ("white", triangle),
    "rings": ("vgrad", rings),
    "stripes": ("white", stripes),
    "checker": ("white", checker),
    "star": ("vgrad", star),
    "gradient": ("hgrad", None),
}
EXTRA: dict[str, tuple[str, Painter | None]] = {"diamond": ("hgrad", diamond)}


def draw(background: str, painter: Painter | None) -> Image.Image:
    if background == "hgrad":
        img = gradient(horizontal=True)
    elif background == "vgrad":
        img = gradient(horizontal=False)
    else:
        img = Image.new("RGB", (SIZE, SIZE), background)
    if painter is not None:
        painter(ImageDraw.Draw(img))
    return img


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--extra", action="store_true", help="only the image added later")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, (background, painter) in (EXTRA if args.extra else FIRST_BATCH).items():
        draw(background, painter).save(args.out / f"{name}.png")


if __name__ == "__main__":
    main()
