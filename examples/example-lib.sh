# Shared by the examples' run.sh scripts (sourced after setting `here` and `example`):
# a fresh home (wiped only if an example made it), PYTHONPATH on the example's folder, a
# scratch dir, and the show/say/note helpers that print each command before running it.
# shellcheck shell=bash
export LOXO_HOME="${LOXO_HOME:-$(dirname "$(dirname "$here")")/.loxo-demo-$example}"
if [ -n "$(ls -A "$LOXO_HOME" 2>/dev/null)" ] && [ ! -e "$LOXO_HOME/.loxo-example" ]; then
    echo "LOXO_HOME=$LOXO_HOME holds data not made by an example: not wiping it" >&2
    exit 2
fi
rm -rf "$LOXO_HOME"
mkdir -p "$LOXO_HOME"
touch "$LOXO_HOME/.loxo-example"  # marks a home an example may wipe next time
# the pipelines' code (transform.python modules, `python3 -m` scripts) lives in the folder
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
