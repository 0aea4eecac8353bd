"""``loxo://`` for fsspec: :class:`LoxoFileSystem` (see the package docstring)."""

from __future__ import annotations

import contextlib
import datetime
import io
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from fsspec.spec import AbstractFileSystem

from loxo.client import Client
from loxo.pfs.model import FileInfo, FileType

from .errors import builtin_errors
from .files import LoxoFile
from .listing import find_tree, outermost
from .transaction import LoxoTransaction, OwnCommit, Writes
from .urls import Location, parse_location

Info = dict[str, Any]


class LoxoFileSystem(AbstractFileSystem):
    """The files of loxo's commits as an fsspec filesystem.

    Storage options: ``home`` (default ``$LOXO_HOME``), ``store_url``, ``address`` and
    ``token`` (default ``$LOXO_ADDRESS``, ``$LOXO_TOKEN`` or the home's config: then a
    ``loxo serve``), or ``client``, a :class:`loxo.Client` to use as it is.
    """

    protocol = "loxo"
    root_marker = ""
    transaction_type = LoxoTransaction

    def __init__(
        self,
        home: str | Path | None = None,
        *,
        address: str | None = None,
        token: str | None = None,
        store_url: str | None = None,
        client: Client | None = None,
        **storage_options: Any,
    ) -> None:
        super().__init__(**storage_options)
        if client is None:
            with builtin_errors():
                client = Client(home, address=address, token=token, store_url=store_url)
            weakref.finalize(self, client.close)
        self.client = client

    # --- locations ----------------------------------------------------------------------

    def _location(self, path: str) -> Location | None:
        with builtin_errors():
            return parse_location(self._strip_protocol(path))

    def _file_location(self, path: str) -> Location:
        loc = self._location(path)
        if loc is None or loc.path == "/":
            raise IsADirectoryError(f"loxo://{self._strip_protocol(path)} is not a file")
        return loc

    def _branch(self, loc: Location) -> str:
        """The branch a write to ``loc`` goes to; a commit is refused."""
        branch = loc.branch
        if branch is None:
            raise PermissionError(
                f"cannot write to loxo://{loc.where}: it names a commit, which is read-only; "
                f"write to a branch (loxo://{loc.where.split('@')[0]}@BRANCH{loc.path})"
            )
        return branch

    @staticmethod
    def _info(loc: Location, fi: FileInfo) -> Info:
        kind = "file" if fi.type == FileType.FILE else "directory"
        return {"name": loc.name(fi.path), "size": fi.size, "type": kind, "hash": fi.hash,
                "commit": fi.commit}  # fmt: skip

    # --- reading ------------------------------------------------------------------------

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Info] | list[str]:
        """A directory's entries (one level), or ``[the file]``; the root lists the
        repos of the default project."""
        loc = self._location(path)
        with builtin_errors():
            if loc is None:
                repos = self.client.list_repo()
                infos = [{"name": r.name, "size": r.size, "type": "directory"} for r in repos]
            else:
                infos = [self._info(loc, f) for f in self.client.list_file(loc.ref_text, loc.path)]
        return infos if detail else [i["name"] for i in infos]

    def info(self, path: str, **kwargs: Any) -> Info:
        loc = self._location(path)
        if loc is None:
            return {"name": "", "size": 0, "type": "directory"}
        with builtin_errors():
            return self._info(loc, self.client.inspect_file(loc.ref_text, loc.path))

    def find(
        self,
        path: str,
        maxdepth: int | None = None,
        withdirs: bool = False,
        detail: bool = False,
        **kwargs: Any,
    ) -> list[str] | dict[str, Info]:
        """Every file under ``path`` (and directory, ``withdirs``) in one listing."""
        loc = self._location(path)
        if loc is None:
            return super().find(path, maxdepth, withdirs, detail, **kwargs)
        if maxdepth is not None and maxdepth < 1:
            raise ValueError("maxdepth must be at least 1")
        try:
            with builtin_errors():
                entries = list(self.client.walk_files(loc.ref_text, loc.path))
        except FileNotFoundError:
            entries = []
        tree = find_tree(((e.path, e.size) for e in entries), loc.path, maxdepth, withdirs)
        out = {loc.name(p): {"name": loc.name(p), "size": n, "type": t}
               for p, (t, n) in tree.items()}  # fmt: skip
        names = sorted(out)
        return {n: out[n] for n in names} if detail else names

    def _open(
        self,
        path: str,
        mode: str = "rb",
        block_size: int | None = None,
        autocommit: bool = True,
        cache_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> LoxoFile:
        loc = self._file_location(path)
        options = {"block_size": block_size, "autocommit": autocommit,
                   "cache_options": cache_options, **kwargs}  # fmt: skip
        if mode == "rb":
            details = self.info(path)
            if details["type"] != "file":
                raise IsADirectoryError(f"loxo://{self._strip_protocol(path)} is a directory")
            pinned = loc.pinned(details["commit"]) if details.get("commit") else loc
            return LoxoFile(self, path, pinned, mode, details=details, **options)
        self._branch(loc)
        if mode == "xb" and self.exists(path):
            raise FileExistsError(f"loxo://{self._strip_protocol(path)} exists already")
        return LoxoFile(self, path, loc, mode, **options)

    def read_range(self, loc: Location, start: int, end: int | None) -> bytes:
        """Bytes ``start`` to ``end`` (the end of the file when None) of ``loc``: one
        ranged read, of the chunks overlapping the range only."""
        length = None if end is None else max(0, end - start)
        try:
            with builtin_errors():
                return b"".join(
                    self.client.iter_file(loc.ref_text, loc.path, offset=start, length=length)
                )
        except FileExistsError as err:  # loxo's PathConflict: the path is a directory
            raise IsADirectoryError(str(err)) from err

    def cat_file(
        self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any
    ) -> bytes:
        loc = self._file_location(path)
        if (start or 0) < 0 or (end is not None and end < 0):
            size = self.info(path)["size"]
            start = max(0, size + start) if start is not None and start < 0 else start
            end = size + end if end is not None and end < 0 else end
        return self.read_range(loc, start or 0, end)

    def modified(self, path: str) -> datetime.datetime:
        """When the commit that ``path`` is read from was finished (or started)."""
        loc, commit = self._file_location(path), self.info(path).get("commit")
        with builtin_errors():
            c = self.client.inspect_commit(loc.pinned(commit).ref_text if commit else loc.ref_text)
        return datetime.datetime.fromtimestamp(c.finished or c.started, datetime.UTC)

    # --- writing: each write in a transaction (see .transaction) ----------------------

    @contextlib.contextmanager
    def _batch(self) -> Iterator[None]:
        """The writes of the block in the current transaction, or in one of their own."""
        if self._intrans:
            yield
            return
        with self.transaction:
            yield

    def _writes(self, loc: Location) -> Writes:
        """Where a write to ``loc`` goes: the transaction's session on its branch, or, out
        of any transaction, a commit of its own."""
        branch = self._branch(loc)
        if self._intrans:
            return self.transaction.session(loc, branch)
        return OwnCommit(self.client, f"{loc.ref.project}/{loc.ref.repo}@{branch}")

    def write_file(self, loc: Location, data: IO[bytes], *, append: bool = False) -> None:
        writes = self._writes(loc)
        with builtin_errors():
            writes.put_file(loc.path, data, append=append)

    def pipe_file(self, path: str, value: bytes, mode: str = "overwrite", **kwargs: Any) -> None:
        loc = self._file_location(path)
        self._branch(loc)
        if mode == "create" and self.exists(path):
            raise FileExistsError(f"loxo://{self._strip_protocol(path)} exists already")
        self.write_file(loc, io.BytesIO(value))

    def rm(
        self, path: str | list[str], recursive: bool = False, maxdepth: int | None = None
    ) -> None:
        """Delete files (and, ``recursive``, directories) in one commit per branch."""
        paths = self.expand_path(path, recursive=recursive, maxdepth=maxdepth)
        if not recursive:
            for p in paths:
                if self.isdir(p):
                    raise IsADirectoryError(f"loxo://{p} is a directory: use recursive=True")
        locs = [loc for loc in map(self._location, outermost(paths)) if loc is not None]
        with self._batch() if len(locs) > 1 else contextlib.nullcontext():
            for loc in locs:
                writes = self._writes(loc)
                with builtin_errors():
                    writes.delete_file(loc.path)

    def rm_file(self, path: str) -> None:
        self.rm(path)

    def cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        """Copy by reference (no bytes move), from any commit to a branch."""
        src, dst = self._file_location(path1), self._file_location(path2)
        writes = self._writes(dst)
        with builtin_errors():
            writes.copy_file(src.file_ref, dst.path)

    def copy(self, *args: Any, **kwargs: Any) -> None:
        with self._batch():
            super().copy(*args, **kwargs)

    def put(self, *args: Any, **kwargs: Any) -> None:
        with self._batch():
            super().put(*args, **kwargs)

    def mv(self, *args: Any, **kwargs: Any) -> None:
        with self._batch():
            super().mv(*args, **kwargs)

    def pipe(self, path: Any, value: Any = None, **kwargs: Any) -> None:
        with self._batch() if isinstance(path, dict) else contextlib.nullcontext():
            super().pipe(path, value, **kwargs)

    def mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        """Nothing to do: a directory exists while a file lies under it."""

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        """Nothing to do: a directory exists while a file lies under it."""
