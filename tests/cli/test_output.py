"""The pure formatting helpers of ``loxo.cli.output``."""

from __future__ import annotations

import json
from enum import StrEnum

import pytest
import yaml

from loxo.cli.output import dump, format_fields, format_table, human_size, relative_time


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1258291, "1.2 MiB"),
        (5 * 1024**3, "5.0 GiB"),
        (3 * 1024**7, "3072.0 EiB"),
    ],
)
def test_human_size(n: int, text: str) -> None:
    assert human_size(n) == text


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (0.2, "just now"),
        (1, "1 second ago"),
        (3, "3 seconds ago"),
        (60, "1 minute ago"),
        (7200, "2 hours ago"),
        (86400 * 12, "12 days ago"),
        (-90, "in 1 minute"),
    ],
)
def test_relative_time(delta: float, text: str) -> None:
    assert relative_time(1000.0 - delta, now=1000.0) == text


def test_tables_align_and_have_no_trailing_blanks() -> None:
    text = format_table(["NAME", "SIZE", "DESCRIPTION"], [["a", "1 B", ""], ["longer", "2 B", "x"]])
    assert text.splitlines() == [
        "NAME    SIZE  DESCRIPTION",
        "a       1 B",
        "longer  2 B   x",
    ]
    assert format_fields([("Name", "a"), ("Description", "")]) == "Name:        a\nDescription:"


class Color(StrEnum):
    RED = "red"


def test_dump_turns_enums_and_tuples_into_plain_values() -> None:
    data = {"c": Color.RED, "t": (1, 2), "n": None}
    assert json.loads(dump(data, "json")) == {"c": "red", "t": [1, 2], "n": None}
    assert yaml.safe_load(dump([data], "yaml")) == [{"c": "red", "t": [1, 2], "n": None}]
