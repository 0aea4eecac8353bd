#!/usr/bin/env bash
# A Python-function transform (transform.python) in warm worker processes.
# Uses LOXO_HOME if set, else <repo>/.loxo-demo-python-transform; wiped at the start
# (repeatable), but only if an example made it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
example=python-transform
# shellcheck source=../example-lib.sh
. "$here/../example-lib.sh"

python3 "$here/make_csv.py" "$work/readings"
python3 "$here/make_csv.py" "$work/more" --extra

say loxo create repo readings -d "hourly readings, one CSV per weather station"
say loxo create pipeline -f "$here/stats.yaml"
note "5 CSV files, one commit: 5 datums, all in one warm worker"
say loxo put file -r readings@master:/ -f "$work/readings"
say loxo list file stats@master:/
say loxo get file stats@master:/brest.json

note "the logs: the module was imported once, then one process (one pid) served every datum"
say loxo logs --pipeline stats

note "two more stations, in two commits, with --no-wait: the jobs are left pending..."
say loxo --no-wait put file readings@master:/lille.csv -f "$work/more/lille.csv"
say loxo --no-wait put file readings@master:/toulouse.csv -f "$work/more/toulouse.csv"
id="$(loxo --no-wait inspect commit readings@master -o json \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
note "...until one command runs them both: one new worker, so one import for the two jobs"
say loxo wait commit "$id"
say loxo list job
say loxo logs --pipeline stats --tail 3
echo
echo "Workers live as long as the loxo process that runs the jobs (here: the first 'put file',"
echo "then 'wait commit'), and serve every datum of every job it runs."
echo "done: the store is in $LOXO_HOME"
