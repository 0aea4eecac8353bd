"""Outputs made of symlinks to the inputs, end to end through the real ``loxo`` command.

A shuffle-like pipeline (two inputs in a union; each datum files its input under an ID
directory of the output with ``ln -s``, not a byte copied) and a pipeline of hostile links,
on the default executor (commands in the contained worker's sandbox) and on the inline
one without the sandbox (``LOXO_SANDBOX=0``: links then name ``$LOXO_PFS`` paths).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BIG = 4 << 20  # bytes of the large photo: far more than the job may add to the store

# file each input file under its ID: /pfs/out/<id>/<extension> -> the input file
SHELVE = (
    'for f in /pfs/photos/* /pfs/tags/*; do [ -e "$f" ] || continue; n=${f##*/}; '
    'mkdir -p "/pfs/out/${n%.*}"; ln -s "$f" "/pfs/out/${n%.*}/${n##*.}"; done'
)
# what each datum of the hostile pipeline tries, by the name of its input file
ATTACKS = {
    "passwd": "ln -s /etc/passwd /pfs/out/x",
    "etc": "ln -s /etc /pfs/out/x",
    "root": "ln -s / /pfs/out/x",
    "chain": "ln -s /etc/passwd /pfs/out/a; ln -s a /pfs/out/b; ln -s b /pfs/out/x",
    "escape": f"ln -s {'../' * 30}etc/passwd /pfs/out/x",
    "host": 'ln -s "$SECRET" /pfs/out/x',
    "pfs": "ln -s /pfs /pfs/out/x",
    "loop": "ln -s x /pfs/out/x",
    "dangling": "ln -s /pfs/in/not-there /pfs/out/x",
}


class Cli:
    """``loxo`` in a subprocess, on its own home, in ``cwd``."""

    def __init__(self, home: Path, cwd: Path, env: dict[str, str]) -> None:
        self.home, self.cwd = home, cwd
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("LOXO_")} | env

    def run(self, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        argv = [sys.executable, "-m", "loxo.cli.main", "--home", str(self.home), *args]
        return subprocess.run(
            argv, input=input, capture_output=True, cwd=self.cwd, env=self.env, timeout=120
        )

    def __call__(self, *args: str, input: bytes | None = None) -> bytes:
        r = self.run(*args, input=input)
        assert r.returncode == 0, f"loxo {' '.join(args)}: {r.stderr.decode()}"
        return r.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "-o", "json"))

    def spec(self, name: str, doc: dict[str, Any], *, job_fails: bool = False) -> None:
        path = self.cwd / f"{name}.json"
        path.write_text(json.dumps({"pipeline": {"name": name}, **doc}))
        if not job_fails:
            self("create", "pipeline", "-f", str(path))
            return
        r = self.run("create", "pipeline", "-f", str(path))
        assert r.returncode == 10, r.stderr.decode()  # a job it ran failed (docs/exit-codes.md)


def packs_size(home: Path) -> int:
    return sum(p.stat().st_size for p in (home / "objects").rglob("*") if p.is_file())


@pytest.fixture(params=["local", "inline-fallback"])
def cli(request: pytest.FixtureRequest, tmp_path: Path) -> Cli:
    env = {"LOXO_SCRATCH": str(tmp_path / "scratch")}
    if request.param == "inline-fallback":
        env |= {"LOXO_EXECUTOR": "inline", "LOXO_SANDBOX": "0"}
    (tmp_path / "work").mkdir()
    (tmp_path / "scratch").mkdir()
    return Cli(tmp_path / "home", tmp_path / "work", env)


def test_shuffle_by_symlinks_stores_the_inputs_by_reference(cli: Cli) -> None:
    photo = os.urandom(BIG)
    cli("create", "repo", "photos")
    cli("create", "repo", "tags")
    cli("put", "file", "photos@master:/p1.jpg", "-f", "-", input=photo)
    cli("put", "file", "photos@master:/p2.jpg", "-f", "-", input=b"small photo")
    cli("put", "file", "tags@master:/p1.json", "-f", "-", input=b'{"tag": "cat"}')
    cli("put", "file", "tags@master:/p2.json", "-f", "-", input=b'{"tag": "dog"}')
    before = packs_size(cli.home)
    union = [
        {"pfs": {"repo": "photos", "glob": "/*"}},
        {"pfs": {"repo": "tags", "glob": "/*"}},
    ]
    cli.spec("shelve", {"transform": {"cmd": ["sh", "-c", SHELVE]}, "input": {"union": union}})
    [job] = cli.json("list", "job", "shelve")
    assert (job["state"], job["data_processed"], job["data_failed"]) == ("SUCCESS", 4, 0), job
    assert cli("get", "file", "shelve@master:/p1/jpg") == photo
    assert cli("get", "file", "shelve@master:/p2/jpg") == b"small photo"
    assert cli("get", "file", "shelve@master:/p1/json") == b'{"tag": "cat"}'
    assert packs_size(cli.home) - before < 64 << 10  # the photo's 4 MiB were not copied
    datums = cli.json("list", "datum", "shelve")
    assert [d["upload_bytes"] for d in datums] == [0] * 4

    # a second commit: one datum more, the others skipped, the output whole
    cli("put", "file", "photos@master:/p3.jpg", "-f", "-", input=b"third")
    job = cli.json("list", "job", "shelve")[0]
    assert (job["data_processed"], job["data_skipped"], job["data_total"]) == (1, 4, 5), job
    listed = [f["path"] for f in cli.json("list", "file", "shelve@master:/p3/")]
    assert listed == ["/p3/jpg"]
    assert cli("get", "file", "shelve@master:/p3/jpg") == b"third"
    assert cli("get", "file", "shelve@master:/p1/jpg") == photo

    # a link to an input directory stores its files
    cmd = ["sh", "-c", "ln -s /pfs/photos /pfs/out/all"]
    cli.spec(
        "album", {"transform": {"cmd": cmd}, "input": {"pfs": {"repo": "photos", "glob": "/"}}}
    )
    paths = [f["path"] for f in cli.json("list", "file", "album@master:/all/")]
    assert paths == ["/all/p1.jpg", "/all/p2.jpg", "/all/p3.jpg"]
    assert cli("get", "file", "album@master:/all/p1.jpg") == photo


def test_hostile_symlinks_fail_their_datums(cli: Cli, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("a host file")
    cli.env["SECRET"] = str(secret)
    cli("create", "repo", "in")
    for name in ATTACKS:
        cli("put", "file", f"in@master:/{name}", "-f", "-", input=name.encode())
    script = "case ${in##*/} in " + " ".join(f"{k}) {v};;" for k, v in ATTACKS.items()) + " esac"
    cmd = ["sh", "-c", "echo fine > /pfs/out/fine-${in##*/}; " + script]
    cli.spec(
        "sneaky",
        {"transform": {"cmd": cmd}, "input": {"pfs": {"repo": "in", "glob": "/*"}}},
        job_fails=True,
    )
    [job] = cli.json("list", "job", "sneaky")
    assert (job["state"], job["data_failed"]) == ("FAILURE", len(ATTACKS)), job
    errors = {d["inputs"][0]["path"][1:]: d["error"] for d in cli.json("list", "datum", "sneaky")}
    outside = "points outside /pfs/out and the datum's inputs"
    host = errors.pop("host")  # dangling where the worker's sandbox hides the host file
    assert host in (
        f"symlink /pfs/out/x {outside} (to {secret}): copy what it needs instead",
        "symlink /pfs/out/x is dangling",
    )
    assert errors == {
        "passwd": f"symlink /pfs/out/x {outside} (to /etc/passwd): copy what it needs instead",
        "etc": f"symlink /pfs/out/x {outside} (to /etc): copy what it needs instead",
        "root": f"symlink /pfs/out/x {outside} (to /): copy what it needs instead",
        "chain": f"symlink /pfs/out/a {outside} (to /etc/passwd): copy what it needs instead",
        "escape": f"symlink /pfs/out/x {outside} (to /etc/passwd): copy what it needs instead",
        "pfs": f"symlink /pfs/out/x {outside} (to /pfs): copy what it needs instead",
        "loop": "symlink /pfs/out/x has too many levels of links",
        "dangling": "symlink /pfs/out/x is dangling",
    }
    assert cli.json("list", "file", "sneaky@master:/") == []  # nothing got in
