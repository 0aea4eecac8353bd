#!/usr/bin/env bash
# Map/reduce word count: docs -> map (one datum per text file) -> reduce (one datum).
# Uses LOXO_HOME if set, else <repo>/.loxo-demo-wordcount; wiped at the start (repeatable),
# but only if an example made it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
example=wordcount
# shellcheck source=../example-lib.sh
. "$here/../example-lib.sh"

python3 "$here/make_texts.py" "$work/docs"
python3 "$here/make_texts.py" "$work/more" --extra

note "map counts each file on its own (<file>.counts); reduce adds them all up (totals.txt)"
say loxo create repo docs -d "text files to count"
say loxo create pipeline -f "$here/map.yaml"
say loxo create pipeline -f "$here/reduce.yaml"
say loxo put file -r docs@master:/ -f "$work/docs"
say loxo list file map@master:/
say_head 5 loxo get file map@master:/alice.txt.counts
echo ...

note "a fifth file: map counts only it (4 datums skipped), reduce adds up again"
say loxo put file docs@master:/erin.txt -f "$work/more/erin.txt"
id="$(commit_id docs@master)"
say loxo list job
say loxo list datum "map@$id"
say loxo logs --pipeline reduce

note "the most frequent words over all five files"
say_head 10 loxo get file reduce@master:/totals.txt
echo
echo "done: loxo get file reduce@master:/totals.txt has every word; the store is in $LOXO_HOME"
