#!/usr/bin/env bash
# Join and group inputs: orders joined with customers by the customer id in the file names;
# daily logs grouped by month. Uses LOXO_HOME if set, else <repo>/.loxo-demo-join-group;
# wiped at the start (repeatable), but only if an example made it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
example=join-group
# shellcheck source=../example-lib.sh
. "$here/../example-lib.sh"

python3 "$here/make_data.py" "$work/data"
python3 "$here/make_data.py" "$work/more" --extra

note "the data first: 5 customers, 7 orders (one of an unknown customer), 8 daily logs"
for repo in customers orders logs; do
    say loxo create repo "$repo"
    say loxo put file -r "$repo@master:/" -f "$work/data/$repo"
done
say loxo list file orders@master:/

note "then the pipelines: each runs its first job on the data already there"
say loxo create pipeline -f "$here/enrich.yaml"
say loxo create pipeline -f "$here/monthly.yaml"

note "join: one datum per order whose customer exists (c09's order and c05 make none)"
say loxo list datum enrich
say loxo list file enrich@master:/
say loxo get file enrich@master:/o1001.json

note "group: one datum per month, holding all of that month's daily files"
say loxo list datum monthly
say loxo get file monthly@master:/2024-02.txt

note "a new day of logs in March: only the March datum runs again"
say loxo put file logs@master:/2024-03-11.log -f "$work/more/logs/2024-03-11.log"
say loxo list datum "monthly@$(commit_id logs@master)"
note "a new order of c03: only its pair is joined; the other six are skipped"
say loxo put file orders@master:/c03-o1010.json -f "$work/more/orders/c03-o1010.json"
say loxo list datum "enrich@$(commit_id orders@master)"
say loxo logs --pipeline enrich --tail 2
echo
echo "done: the store is in $LOXO_HOME"
