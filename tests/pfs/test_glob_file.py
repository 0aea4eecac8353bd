"""``glob_file`` (one pass over a commit) agrees with the pure ``glob_tree`` plus per-match
directory summaries, on random trees and patterns."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from loxo.pfs.api import PFS
from loxo.pfs.db import Database
from loxo.pfs.glob import glob_tree
from loxo.pfs.model import FileType
from loxo.storage.dirhash import dir_summary
from loxo.storage.memory import MemoryStore

names = st.sampled_from(["a", "b", "a.txt", "b.csv", "c-1"])
paths = st.lists(names, min_size=1, max_size=4).map(lambda parts: "/" + "/".join(parts))
patterns = st.sampled_from(
    ["/", "/*", "/*/*", "**", "/a/*", "/**/*.txt", "/a", "/{a,b}/*", "/*.csv", "/a/**", "/(*)/b"]
)


@settings(max_examples=120, deadline=None)
@given(files=st.lists(paths, max_size=25), pattern=patterns)
def test_glob_file_matches_glob_tree(files: list[str], pattern: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pfs = PFS(Database(Path(tmp) / "db"), MemoryStore(uuid.uuid4().hex))
        pfs.create_repo("r")
        tree: dict[str, bytes] = {}
        for p in files:  # keep a consistent tree: no path both file and directory
            if any(q.startswith(p + "/") for q in tree) or any(p.startswith(q + "/") for q in tree):
                continue
            tree[p] = p.encode()
        if not tree:
            return
        with pfs.modify_file("r@master") as mf:
            for p, data in tree.items():
                mf.put_file(p, data)
        got = [(f.path, f.type, f.size, f.hash) for f in pfs.glob_file("r@master", pattern)]
        reader = pfs._reader(pfs.read_root(pfs.resolve("r@master")))
        want = []
        for m in glob_tree(pattern, sorted(tree)):
            if m.is_dir:
                prefix = "/" if m.path == "/" else m.path + "/"
                size, digest = dir_summary(prefix, reader.iter_prefix(prefix))
                want.append((m.path, FileType.DIR, size, digest))
            else:
                e = reader.get(m.path)
                assert e is not None
                want.append((m.path, FileType.FILE, e.size, e.hash))
        assert got == want
        pfs.close()
