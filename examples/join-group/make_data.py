"""Write the join-group example's data: customers, orders and daily log files.

`python make_data.py OUT_DIR` writes OUT_DIR/customers, OUT_DIR/orders and OUT_DIR/logs;
`--extra` writes only what run.sh adds later (one order, one day of logs).

- customers/<customer id>.json — c01..c05; c05 has no orders.
- orders/<customer id>-<order id>.json — order o1009 names customer c09, who does not exist.
- logs/<YYYY-MM-DD>.log — a day's log, one day a week over three months (3, 4 and 1 files),
  ``<time> <LEVEL> <message>`` lines.
"""

import argparse
import json
import random
from datetime import date, timedelta
from pathlib import Path

CUSTOMERS = {
    "c01": ("Ada", "Lyon"),
    "c02": ("Brahim", "Lille"),
    "c03": ("Chen", "Nantes"),
    "c04": ("Dora", "Paris"),
    "c05": ("Emil", "Nice"),
}
ORDERS = [  # (order id, customer id, item, quantity)
    ("o1001", "c01", "notebook", 3),
    ("o1002", "c02", "pen", 10),
    ("o1003", "c01", "lamp", 1),
    ("o1004", "c03", "desk", 1),
    ("o1005", "c04", "chair", 2),
    ("o1006", "c02", "stapler", 1),
    ("o1009", "c09", "mystery", 1),
]
EXTRA_ORDERS = [("o1010", "c03", "paper", 5)]
PRICES = {"notebook": 4.5, "pen": 1.2, "lamp": 30.0, "desk": 210.0, "chair": 85.0,
          "stapler": 12.0, "mystery": 99.0, "paper": 6.0}  # fmt: skip
FIRST_DAY, DAYS = date(2024, 1, 15), 8  # a log a week, 2024-01-15 .. 2024-03-04
EXTRA_DAY = date(2024, 3, 11)
LEVELS = ["INFO"] * 6 + ["WARN"] * 2 + ["ERROR"]


def write_json(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2) + "\n")


def write_order(out: Path, order: str, customer: str, item: str, qty: int) -> None:
    record = {"order": order, "customer": customer, "item": item, "quantity": qty,
              "total": round(PRICES[item] * qty, 2)}  # fmt: skip
    write_json(out / "orders" / f"{customer}-{order}.json", record)


def write_log(out: Path, day: date) -> None:
    rng = random.Random(day.toordinal())
    lines = []
    for i in range(rng.randrange(5, 15)):
        level = rng.choice(LEVELS)
        lines.append(f"{day}T{8 + i:02d}:00:00 {level} request {rng.randrange(1000)} handled")
    (out / "logs").mkdir(parents=True, exist_ok=True)
    (out / "logs" / f"{day}.log").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--extra", action="store_true", help="only what is added later")
    args = parser.parse_args()
    if args.extra:
        for order in EXTRA_ORDERS:
            write_order(args.out, *order)
        write_log(args.out, EXTRA_DAY)
        return
    for cid, (name, city) in CUSTOMERS.items():
        write_json(args.out / "customers" / f"{cid}.json", {"id": cid, "name": name, "city": city})
    for order in ORDERS:
        write_order(args.out, *order)
    for n in range(DAYS):
        write_log(args.out, FIRST_DAY + timedelta(weeks=n))


if __name__ == "__main__":
    main()
