"""Pipeline `enrich`: one datum per (order, customer) pair with the same customer id.

Run as the command `python3 -m enrich /pfs/out` (run.sh puts this folder on PYTHONPATH).
The join puts one order file and its customer's file in the datum; loxo names them in the
environment: ``$orders`` and ``$customers`` are their paths (input name = variable name),
``$PACH_DATUM_orders_JOIN_ON`` is the customer id the glob captured. Writes
``/pfs/out/<order id>.json``: the order with the customer's name and city.
"""

import json
import os
import sys
from pathlib import Path


def main() -> None:
    env = dict(os.environ)  # variables named after the inputs: lower case, like the names
    order = json.loads(Path(env["orders"]).read_text())
    customer = json.loads(Path(env["customers"]).read_text())
    key = env["PACH_DATUM_orders_JOIN_ON"]
    assert order["customer"] == customer["id"] == key, (order, customer, key)
    enriched = {**order, "customer_name": customer["name"], "city": customer["city"]}
    out = Path(sys.argv[1]) / f"{order['order']}.json"
    out.write_text(json.dumps(enriched, indent=2) + "\n")
    print(f"join key {key}: order {order['order']} -> {customer['name']} ({customer['city']})")


if __name__ == "__main__":
    main()
