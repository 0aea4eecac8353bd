"""Map stage: count the words of each text file under INPUT_DIR into OUT_DIR/<file>.counts.

Run by pipeline `map` as `python3 -m count_words /pfs/docs /pfs/out`, one datum (one text
file, glob ``/*``) at a time. Each datum writes its own ``<file>.counts``: two datums
writing the same output path would fail the job, so per-word files are the reducer's job.
Output lines are ``<word> <count>``, sorted by word. Words are lower-cased runs of letters.
"""

import re
import sys
from collections import Counter
from pathlib import Path

WORD = re.compile(r"[a-z]+")


def count(text: str) -> Counter[str]:
    return Counter(WORD.findall(text.lower()))


def main(input_dir: str, out_dir: str) -> None:
    for path in sorted(p for p in Path(input_dir).rglob("*") if p.is_file()):
        counts = count(path.read_text())
        lines = "".join(f"{word} {n}\n" for word, n in sorted(counts.items()))
        (Path(out_dir) / f"{path.name}.counts").write_text(lines)
        print(f"{path.name}: {sum(counts.values())} words, {len(counts)} distinct")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
