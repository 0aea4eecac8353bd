#!/usr/bin/env bash
# A tour of loxo's versioned data on the embedded store (no server, no setup).
# Uses LOXO_HOME if set, else ./.loxo-demo (wiped at the start so the tour is repeatable).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export LOXO_HOME="${LOXO_HOME:-$PWD/../../.loxo-demo}"
rm -rf "$LOXO_HOME"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

python make_data.py "$work/v1" "$work/v2"

say loxo create repo census -d "city populations by year"
say loxo put file -r census@master:/ -f "$work/v1"
say loxo list commit census
say loxo list file census@master:/
say loxo list file census@master:/2023

# second version: one file changed, one added, one deleted
say loxo start commit census@master -m "2024 data, fix Lyon"
say loxo put file census@master:/2023/lyon.csv -f "$work/v2/2023/lyon.csv"
say loxo put file -r census@master:/2024 -f "$work/v2/2024"
say loxo delete file census@master:/2023/nice.csv
say loxo finish commit census@master

say loxo list commit census@master
say loxo diff file census@master
say loxo glob file 'census@master:/*/l*.csv'
say loxo get file census@master:/2023/lyon.csv
say loxo get file census@master^:/2023/lyon.csv
say loxo inspect file census@master:/2023
say loxo inspect commit census@master
say loxo list file census@master.1:/2023 -o json
say loxo fsck
echo
echo "tour finished: the store is in $LOXO_HOME"
