"""Generate two small versions of a census data set for the tour."""

import random
import sys
from pathlib import Path

CITIES = ["paris", "lyon", "nice", "lille", "nantes", "lens"]


def write(root: Path, year: int, rng: random.Random, bump: dict[str, int]) -> None:
    (root / str(year)).mkdir(parents=True, exist_ok=True)
    for city in CITIES:
        rows = ["district,population"]
        for d in range(1, 6):
            rows.append(f"{d},{rng.randrange(10_000, 90_000) + bump.get(city, 0)}")
        (root / str(year) / f"{city}.csv").write_text("\n".join(rows) + "\n")


v1, v2 = Path(sys.argv[1]), Path(sys.argv[2])
write(v1, 2022, random.Random(1), {})
write(v1, 2023, random.Random(2), {})
write(v2, 2023, random.Random(2), {"lyon": 1_000})
write(v2, 2024, random.Random(3), {})
