"""Reduce stage: add up every ``*.counts`` file under INPUT_DIR into one totals file.

Run by pipeline `reduce` as `python3 -m sum_counts /pfs/map /pfs/out/totals.txt`, with a
single datum (glob ``/``) holding the whole output of `map`. Writes ``<word> <total>``
lines, most frequent first (ties by word).
"""

import sys
from collections import Counter
from pathlib import Path


def main(input_dir: str, out_file: str) -> None:
    totals: Counter[str] = Counter()
    files = sorted(Path(input_dir).rglob("*.counts"))
    for path in files:
        for line in path.read_text().splitlines():
            word, n = line.split()
            totals[word] += int(n)
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    Path(out_file).write_text("".join(f"{word} {n}\n" for word, n in ranked))
    print(f"{len(files)} count files, {sum(totals.values())} words, {len(totals)} distinct")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
