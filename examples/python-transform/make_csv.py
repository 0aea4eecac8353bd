"""Write one CSV of readings per weather station (seeded: the same every run).

`python make_csv.py OUT_DIR` writes the first batch; `--extra` only the two stations
added later. Columns: ``hour,temperature,humidity``, 48 hourly rows per station.
"""

import argparse
import math
import random
from pathlib import Path

STATIONS = {"brest": 11.0, "dijon": 9.0, "grenoble": 7.5, "marseille": 16.0, "rennes": 10.5}
EXTRA = {"lille": 9.5, "toulouse": 13.5}


def readings(station: str, base: float) -> str:
    rng = random.Random(station)
    rows = ["hour,temperature,humidity"]
    for hour in range(48):
        temp = base + 4 * math.sin((hour - 9) / 24 * 2 * math.pi) + rng.uniform(-1, 1)
        humidity = rng.randrange(40, 95)
        rows.append(f"{hour},{temp:.1f},{humidity}")
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--extra", action="store_true", help="only the stations added later")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for station, base in (EXTRA if args.extra else STATIONS).items():
        (args.out / f"{station}.csv").write_text(readings(station, base))


if __name__ == "__main__":
    main()
