"""``docs/exit-codes.md`` lists every exit code the CLI can return, each with its error
category."""

from __future__ import annotations

import re
from pathlib import Path

from loxo import errors
from loxo.cli import main

DOC = Path(__file__).parents[2] / "docs" / "exit-codes.md"


def documented() -> dict[int, str]:
    rows = re.findall(r"^\| *(\d+) *\|(.*)$", DOC.read_text(), flags=re.MULTILINE)
    return {int(code): rest for code, rest in rows}


def test_every_category_and_code_is_documented() -> None:
    table = documented()
    categories = [errors.LoxoError, *errors.LoxoError.__subclasses__()]
    for cls in categories:
        if cls.__module__ != "loxo.errors":
            continue  # a specific error of another package: it keeps its category's code
        assert cls.exit_code in table, f"{cls.__name__} (exit {cls.exit_code}) is not in {DOC}"
        if cls is not errors.LoxoError:
            assert f"`{cls.__name__}`" in table[cls.exit_code], cls.__name__
    for code in (0, 2, main.EXIT_INTERNAL, main.EXIT_INTERRUPTED):
        assert code in table
    assert errors.JobFailed.exit_code == 10 and errors.JobFailed.exit_code not in {
        cls.exit_code for cls in categories if cls is not errors.JobFailed
    }


def test_the_readme_links_it() -> None:
    assert "(docs/exit-codes.md)" in (DOC.parents[1] / "README.md").read_text()
