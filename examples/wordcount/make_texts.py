"""Write a few small text files from a built-in word list (seeded: the same every run).

`python make_texts.py OUT_DIR` writes the first batch; `--extra` only the file added later.
"""

import argparse
import random
from pathlib import Path

VOCABULARY = (
    "the of and data a to in is pipeline commit it branch repo datum job glob worker file "
    "version lineage model train test image text word count map reduce merge join group cron"
)
WORDS = VOCABULARY.split()
WEIGHTS = [1 / (rank + 1) for rank in range(len(WORDS))]  # Zipf-like: "the" is most common
FIRST_BATCH = {"alice.txt": 1, "bob.txt": 2, "carol.txt": 3, "dave.txt": 4}
EXTRA = {"erin.txt": 5}


def text(seed: int) -> str:
    rng = random.Random(seed)
    lines = []
    for _ in range(rng.randrange(20, 40)):
        words = rng.choices(WORDS, weights=WEIGHTS, k=rng.randrange(4, 12))
        words[0] = words[0].capitalize()
        lines.append(" ".join(words) + rng.choice([".", "!", "?", ","]))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--extra", action="store_true", help="only the file added later")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, seed in (EXTRA if args.extra else FIRST_BATCH).items():
        (args.out / name).write_text(text(seed))


if __name__ == "__main__":
    main()
