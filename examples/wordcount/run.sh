#!/usr/bin/env bash
# Map/reduce word count: docs -> map (one datum per text file) -> reduce (one datum).
# Uses LOXO_HOME if set, else <repo>/.loxo-demo-wordcount; wiped at the start (repeatable),
# but only if an example made it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export LOXO_HOME="${LOXO_HOME:-$(dirname "$(dirname "$here")")/.loxo-demo-wordcount}"
if [ -n "$(ls -A "$LOXO_HOME" 2>/dev/null)" ] && [ ! -e "$LOXO_HOME/.loxo-example" ]; then
    echo "LOXO_HOME=$LOXO_HOME holds data not made by an example: not wiping it" >&2
    exit 2
fi
rm -rf "$LOXO_HOME"
mkdir -p "$LOXO_HOME"
touch "$LOXO_HOME/.loxo-example"  # marks a home this script may wipe next time
# the pipelines run `python3 -m count_words` / `python3 -m sum_counts` from this folder
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
# say_head N CMD...: say, but print only the first N lines of the output
say_head() {
    local n="$1"
    shift
    show "$@"
    "$@" >"$work/output"
    head -n "$n" "$work/output"
}
note() { printf '\n%s# %s%s\n' "$cyan" "$*" "$plain"; }
commit_id() { loxo inspect commit "$1" -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }

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
