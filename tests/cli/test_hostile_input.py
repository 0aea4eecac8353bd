"""A hostile user at the command line: bad server addresses (given, in the environment, in
the config file), pathological pipeline spec files, out-of-range ports and names that
would read as options. Each is one line naming the bad value and what to do, with the exit
code of its category (4: invalid argument) -- never ``internal error`` (70)."""

from __future__ import annotations

import json

import pytest

from .conftest import Loxo, spec

DEEP = 2000


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("http://[::1", "invalid IPv6 URL"),
        ("http://h:abc", "port"),
        ("http://h:99999", "port out of range"),
        ("ftp://x", "http:// or https://"),
        ("not a url", "space"),
        ("http://", "no host"),
        ("http://u:pw@h:1", "token"),
    ],
)
def test_a_bad_address_option_names_it(loxo: Loxo, address: str, why: str) -> None:
    err = loxo.fails("--address", address, "list", "repo", code=4)
    assert f"invalid server address {address!r}" in err
    assert why in err and "http://HOST:PORT" in err


def test_config_set_refuses_a_bad_address(loxo: Loxo) -> None:
    err = loxo.fails("config", "set", "address", "not a url", code=4)
    assert "'not a url'" in err and "http://HOST:PORT" in err
    assert loxo("config", "get", "address").out == ""
    loxo("config", "set", "address", "http://127.0.0.1:8080")
    assert loxo("config", "get", "address").out.strip() == "http://127.0.0.1:8080"


def test_a_bad_address_already_in_the_config_file_names_the_file(loxo: Loxo) -> None:
    loxo.home.mkdir(parents=True)
    config = loxo.home / "config.yaml"
    config.write_text("address: not a url\n")
    err = loxo.fails("list", "repo", code=4)
    assert "'not a url'" in err and str(config) in err
    assert "loxo config unset address" in err
    loxo("config", "unset", "address")  # the way out works
    loxo("list", "repo")


def test_a_bad_address_in_the_environment_names_the_variable(loxo: Loxo) -> None:
    loxo.env["LOXO_ADDRESS"] = "http://[::1"
    err = loxo.fails("list", "repo", code=4)
    assert "'http://[::1'" in err and "$LOXO_ADDRESS" in err


def test_config_set_refuses_a_multi_line_token(loxo: Loxo) -> None:
    err = loxo.fails("config", "set", "token", "a\nb", code=4)
    assert "line break" in err


def _spec_text(**extra: object) -> str:
    return json.dumps(spec("p", "data", ["true"], **extra))


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"[" * DEEP + b"]" * DEEP, "nested too deep"),
        (b'{"pipeline": ' + b'{"a": ' * DEEP + b"1" + b"}" * DEEP + b"}", "nested too deep"),
        (b"- " * DEEP + b"x", "nested too deep"),
        (_spec_text(metadata={"a": [[[[[[[[[[[[]]]]]]]]]]]]}).replace("[[", "[" * 300 + "[[")
         .replace("]]", "]]" + "]" * 300).encode(), "nested too deep"),
        (_spec_text().replace('"glob": "/*"', '"glob": "/*", "x": ' + "9" * 5000).encode(),
         "5000 digits"),
        (f"pipeline: {{name: p}}\ndatum_tries: {'9' * 5000}\n".encode(), "5000 digits"),
        (b"- a\n- b\n", "expected a mapping of fields"),
        (b"hello\n", "expected a mapping of fields"),
        (bytes(range(256)) * 4, "not UTF-8"),
        (_spec_text(datum_timeout="9" * 40 + "h").encode(), "datum_timeout"),
        (json.dumps(spec("p", "data", ["true"]) | {"transform": {"cmd": ["tr\0ue"]}}).encode(),
         "transform.cmd[0]: holds a NUL"),
        (json.dumps(spec("p", "data", ["true"]) | {"transform": {"cmd": ["true"],
                                                                 "env": {"A": "x\0"}}}).encode(),
         "transform.env.A: holds a NUL"),
        (_spec_text().replace('"name": "p"', '"name": "-p"', 1).encode(), "starts with '-'"),
    ],
)  # fmt: skip
def test_a_hostile_spec_file_is_one_clear_error(loxo: Loxo, content: bytes, why: str) -> None:
    loxo("create", "repo", "data")
    loxo.gen({"spec.json": content})
    err = loxo.fails("create", "pipeline", "-f", "spec.json", code=4)
    assert why in err and "spec.json" in err
    assert loxo("list", "pipeline", "-o", "json").out.strip() == "[]"


def test_a_missing_spec_file_is_not_found(loxo: Loxo) -> None:
    err = loxo.fails("create", "pipeline", "-f", "nope.json", code=2)
    assert "nope.json" in err


@pytest.mark.parametrize(
    ("args", "bad"),
    [
        (["serve", "--port", "99999"], "99999"),
        (["serve", "--port", "-5"], "-5"),
        (["serve", "--grpc-port", "70000"], "70000"),  # was taken modulo 65536: port 4464
        (["console", "--port", "65536", "--no-browser"], "65536"),
    ],
)
def test_ports_out_of_range_are_usage_errors(loxo: Loxo, args: list[str], bad: str) -> None:
    r = loxo.run(*args)
    assert r.code == 2, r.stderr
    assert f"{bad} is not in the range" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["create", "repo", "--", "-x"],
        ["create", "repo", "--", "--foo"],
        ["create", "branch", "data@-x"],
        ["put", "file", "data@--foo:/a.txt"],
    ],
)
def test_names_that_read_as_options_are_refused(loxo: Loxo, args: list[str]) -> None:
    loxo("create", "repo", "data")
    err = loxo.fails(*args, input="x", code=4)
    assert "starts with '-'" in err and "option" in err
    assert [r["name"] for r in loxo.json("list", "repo")] == ["data"]


def test_a_count_beyond_sqlite_is_just_large(loxo: Loxo) -> None:
    assert loxo("list", "job", "-n", "9" * 30, "-o", "json").out.strip() == "[]"


def test_a_config_file_that_is_not_utf8_names_the_file(loxo: Loxo) -> None:
    loxo.home.mkdir(parents=True)
    (loxo.home / "config.yaml").write_bytes(b"address: \xff\xfe\n")
    err = loxo.fails("list", "repo", code=4)
    assert "config.yaml" in err and "utf-8" in err


@pytest.mark.parametrize(
    ("args", "code", "why"),
    [
        (["put", "file", "data@master:/x", "-f", "http://[::1"], 4, "invalid URL 'http://[::1'"),
        (["put", "file", "data@master:/x", "-f", "http://h:abc/x"], 4, "nonnumeric port"),
        (["put", "file", "--untar", "data@master:/", "-f", "file:///nonexistent.tar"], 2,
         "'/nonexistent.tar' not found"),
        (["create", "pipeline", "-f", "."], 4, "is a directory"),
    ],
)  # fmt: skip
def test_bad_sources(loxo: Loxo, args: list[str], code: int, why: str) -> None:
    loxo("create", "repo", "data")
    err = loxo.fails(*args, code=code)
    assert why in err
