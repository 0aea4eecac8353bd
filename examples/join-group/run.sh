#!/usr/bin/env bash
# Join and group inputs: orders joined with customers by the customer id in the file names;
# daily logs grouped by month. Uses LOXO_HOME if set, else <repo>/.loxo-demo-join-group;
# wiped at the start (repeatable), but only if an example made it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export LOXO_HOME="${LOXO_HOME:-$(dirname "$(dirname "$here")")/.loxo-demo-join-group}"
if [ -n "$(ls -A "$LOXO_HOME" 2>/dev/null)" ] && [ ! -e "$LOXO_HOME/.loxo-example" ]; then
    echo "LOXO_HOME=$LOXO_HOME holds data not made by an example: not wiping it" >&2
    exit 2
fi
rm -rf "$LOXO_HOME"
mkdir -p "$LOXO_HOME"
touch "$LOXO_HOME/.loxo-example"  # marks a home this script may wipe next time
# pipeline enrich runs `python3 -m enrich` from this folder
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
bold='' cyan='' plain=''
if [ -t 1 ]; then bold=$'\e[1m' cyan=$'\e[36m' plain=$'\e[0m'; fi
# show CMD...: print the command (quoted where needed); say CMD...: show, then run it
show() {
    local shown=() arg
    for arg in "$@"; do
        if [[ $arg =~ [[:space:]\"\$*?^] ]]; then shown+=("'$arg'"); else shown+=("$arg"); fi
    done
    printf '\n%s$ %s%s\n' "$bold" "${shown[*]}" "$plain"
}
say() { show "$@"; "$@"; }
note() { printf '\n%s# %s%s\n' "$cyan" "$*" "$plain"; }
commit_id() { loxo inspect commit "$1" -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }

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
