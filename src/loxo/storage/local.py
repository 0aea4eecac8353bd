"""The local object store: one file per object under a root directory.

Key ``chunks/ab/abcd`` is the file ``<root>/chunks/ab/abcd``. Every write goes to a temp file
(``.tmp-<random>``) in the object's own directory and is then renamed (``put``) or hard-linked
(``put_if_absent``, so of two racing writers exactly one wins) into place, so readers see
whole objects only and a crash leaves at most a stray temp file, which ``list`` ignores and
:meth:`LocalStore.tmp_cleanup` removes. Writes are not fsynced one by one: :meth:`sync` is
the durability barrier for everything this store object wrote since its last call.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from loxo.errors import InvalidArgumentError, ObjectNotFound, StorageError

from .objectstore import ObjectInfo, ObjectStore

TMP_PREFIX = ".tmp-"
_ABSENT = (FileNotFoundError, NotADirectoryError, IsADirectoryError)
# keys of plain parts (no dots, so no "."/".." or temp-file parts): always valid
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_=+-]+(?:/[A-Za-z0-9_=+-]+)*")
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def check_key(key: str) -> str:
    """``key`` if it is a valid object key, else :class:`InvalidArgumentError` saying why."""
    if _PLAIN_KEY.fullmatch(key):  # the shape of every key loxo makes: valid, quickly
        return key
    parts = key.split("/")
    why = ""
    if not key:
        why = "it is empty"
    elif any(not " " <= c <= "~" for c in key) or "\\" in key:
        why = "only printable ASCII without backslashes is allowed"
    elif any(p in ("", ".", "..") for p in parts):
        why = "it must not start or end with '/', nor have empty, '.' or '..' parts"
    elif any(p.startswith(TMP_PREFIX) for p in parts):
        why = f"parts must not start with {TMP_PREFIX!r} (reserved for temp files)"
    if why:
        raise InvalidArgumentError(f"invalid object key {key!r}: {why}")
    return key


class LocalStore(ObjectStore):
    """Objects as files under ``root`` (created if missing)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).absolute()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise self._error(e, "", self.root) from e
        self.url = "file://" + str(self.root)
        self._prefix = os.path.join(self.root, "")  # "<root>/": a key's path is prefix + key
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()  # one sync at a time (see sync)
        self._unsynced: set[str] = set()

    def _path(self, key: str) -> str:
        return self._prefix + check_key(key)

    def get(self, key: str) -> bytes:
        return self._read(key, 0, -1)

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise InvalidArgumentError(f"invalid range {offset}+{length} of object {key!r}")
        return self._read(key, offset, length)

    def _read(self, key: str, offset: int, length: int) -> bytes:
        path = self._path(key)
        try:
            if length < 0:
                with open(path, "rb") as f:
                    f.seek(offset)
                    return f.read()
            # a range (every chunk read): open, pread, close; no file object
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                parts: list[bytes] = []
                done = 0
                while done < length:  # one pread, unless the range is huge
                    part = os.pread(fd, length - done, offset + done)
                    if not part:
                        break
                    parts.append(part)
                    done += len(part)
                return parts[0] if len(parts) == 1 else b"".join(parts)
            finally:
                os.close(fd)
        except _ABSENT:
            raise ObjectNotFound(key, self.url) from None
        except OSError as e:
            raise self._error(e, key, path) from e

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        tmp = self._write_temp(key, path, data)
        try:
            os.replace(tmp, path)
        except OSError as e:
            _unlink_quietly(tmp)
            raise self._error(e, key, path) from e
        with self._lock:
            self._unsynced.add(path)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        path = self._path(key)
        if self._refresh(key, path):
            return False
        tmp = self._write_temp(key, path, data)
        try:
            os.link(tmp, path)  # fails if the name exists: exactly one racing writer wins
        except FileExistsError:
            if self._refresh(key, path):
                return False
            raise StorageError(f"cannot store object {key!r}: {path} is a directory") from None
        except OSError as e:
            raise self._error(e, key, path) from e
        finally:
            _unlink_quietly(tmp)
        with self._lock:
            self._unsynced.add(path)
        return True

    def exists(self, key: str) -> bool:
        return os.path.isfile(self._path(key))

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            os.unlink(path)
        except _ABSENT:
            pass
        except OSError as e:
            raise self._error(e, key, path) from e

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        head, sep, tail = prefix.rpartition("/")  # walk only the directory the prefix names
        top = os.path.join(self.root, check_key(head)) if sep else str(self.root)
        yield from self._walk(top, head + sep, tail)

    def _walk(self, path: str, key_prefix: str, name_prefix: str = "") -> Iterator[ObjectInfo]:
        try:
            with os.scandir(path) as it:
                entries = [n for n in it if n.name.startswith(name_prefix)]
        except _ABSENT:
            return
        except OSError as e:
            raise self._error(e, key_prefix, path) from e
        # A directory's keys sort as "<name>/...", so order it by "<name>/", not by "<name>".
        entries.sort(key=lambda n: n.name + "/" if n.is_dir(follow_symlinks=False) else n.name)
        for ent in entries:
            if ent.name.startswith(TMP_PREFIX):
                continue
            if ent.is_dir(follow_symlinks=False):
                yield from self._walk(ent.path, key_prefix + ent.name + "/")
                continue
            try:
                st = ent.stat()
            except FileNotFoundError:
                continue  # deleted while we listed
            yield ObjectInfo(key_prefix + ent.name, st.st_size, st.st_mtime)

    def sync(self) -> None:
        """Make every write so far durable. A sync that finds another one running waits for
        it: that one may be flushing this caller's files, which must be on disk when this
        call returns."""
        with self._sync_lock:
            self._sync()

    def _sync(self) -> None:
        with self._lock:
            files, self._unsynced = self._unsynced, set()
        root, dirs = str(self.root), set[str]()
        for d in map(os.path.dirname, files):
            while d not in dirs and len(d) >= len(root):  # new dirs need their parents synced
                dirs.add(d)
                d = os.path.dirname(d)
        path = root
        try:
            for path in [*sorted(files), *sorted(dirs, key=len, reverse=True)]:
                with contextlib.suppress(FileNotFoundError):  # deleted since written
                    fd = os.open(path, os.O_RDONLY)
                    try:
                        os.fsync(fd)
                    finally:
                        os.close(fd)
        except OSError as e:
            with self._lock:
                self._unsynced |= files  # not durable yet: the next sync tries again
            raise self._error(e, "", path) from e

    def tmp_cleanup(self, older_than_seconds: float = 3600.0) -> int:
        """Remove temp files (left by killed writers) older than the given age; their count."""
        cutoff, removed = time.time() - older_than_seconds, 0
        for dirpath, _, names in os.walk(self.root):
            for path in (os.path.join(dirpath, n) for n in names if n.startswith(TMP_PREFIX)):
                try:
                    if os.stat(path).st_mtime < cutoff:
                        os.unlink(path)
                        removed += 1
                except FileNotFoundError:
                    pass
        return removed

    def _write_temp(self, key: str, path: str, data: bytes) -> str:
        tmp, fd = os.path.join(os.path.dirname(path), TMP_PREFIX + uuid.uuid4().hex), -1
        try:
            try:
                fd = os.open(tmp, _CREATE, 0o644)
            except FileNotFoundError:  # parent directories are made lazily
                os.makedirs(os.path.dirname(path), exist_ok=True)
                fd = os.open(tmp, _CREATE, 0o644)
            view = memoryview(data).cast("B")
            while view:
                view = view[os.write(fd, view) :]
        except OSError as e:
            if fd >= 0:
                os.close(fd)
                _unlink_quietly(tmp)
            raise self._error(e, key, path) from e
        os.close(fd)
        return tmp

    def _refresh(self, key: str, path: str) -> bool:
        """Touch the object's mtime if it exists; whether it does."""
        try:
            os.utime(path)
        except _ABSENT:
            return False
        except OSError as e:
            raise self._error(e, key, path) from e
        return os.path.isfile(path)  # not a directory of longer keys

    def _error(self, e: OSError, key: str, path: str | Path) -> StorageError:
        if e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            return StorageError(
                f"disk full writing object {key!r} under {self.root}: "
                "free some space (or raise the quota) and retry"
            )
        if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return StorageError(f"cannot access {path}: {e.strerror} (check its permissions)")
        return StorageError(f"object store error on {key!r} at {path}: {e.strerror or e}")


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
