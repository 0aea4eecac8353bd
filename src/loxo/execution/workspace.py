"""A worker's reusable scratch directory: one ``/pfs`` emptied between datums.

Making and removing directories is the dearest part of a small datum (tens of
microseconds per ``mkdir``/``rmdir`` on ext4), so a warm worker, which runs one datum at a
time, keeps one scratch directory, ``<$LOXO_SCRATCH or temp dir>/loxo-worker-XXXX``, for
its lifetime instead of a fresh ``loxo-datum-XXXX`` per datum:

- :meth:`Workspace.datum` hands out its ``pfs`` with an empty ``out`` and, for each input
  name of the datum, an empty directory; everything else at the top of ``pfs`` is removed;
- when the datum ends, everything under ``pfs`` is removed, except the top-level
  directories themselves, which are emptied and given back their owner and mode (and kept
  for the next datum, which starts from what this cleanup left without listing ``pfs``
  again). A datum thus never sees another datum's files. Entries are never followed
  through symlinks;
- ``pfs`` is checked on each use (same inode, a real directory, private mode); user code
  that replaced or moved it only costs a fresh workspace (:attr:`Workspace.generation`
  changes, so a sandbox bound to the old ``pfs`` is replaced too);
- a change of ``LOXO_SCRATCH`` also starts a fresh workspace; :meth:`close` removes it;
- :meth:`sandbox` is the worker's long-lived sandbox
  (:class:`~loxo.execution.sandbox_session.SandboxSession`) with this ``pfs`` at ``/pfs``,
  started on first use and replaced with the workspace or when its agent died.

A worker that itself runs inside its sandbox (:mod:`~loxo.execution.sandbox_worker`) has a
**bound** workspace: ``pfs`` is the sandbox's ``/pfs``, a bind mount of a directory its
parent made, which the workspace never makes, moves or removes (the parent removes it
after the worker). What a fresh workspace would mend there is mended in place (emptied,
its mode restored); if that fails, :attr:`Workspace.lost` is set and the worker must end,
so that its parent replaces it. A mount point, which user code can neither move nor
replace, a bound ``pfs`` stays open from datum to datum (checked after each cleanup, and
for its removal before each datum).

Anything unexpected while emptying (a directory user code made read-only as another user,
say) falls back to :func:`~loxo.execution.environment.remove_tree` and a fresh workspace.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from .environment import empty_dir, remove_tree
from .sandbox_session import SandboxSession

__all__ = ["PREFIX", "Workspace", "WorkspaceLost", "empty_dir_at"]

PREFIX = "loxo-worker-"  # a worker scratch directory's name: all a sweep ever removes


class WorkspaceLost(OSError):
    """A bound workspace's ``/pfs`` cannot be used any more: the worker must end."""


class Workspace:
    """One worker's scratch directory (not thread-safe: one datum at a time); with
    ``bound``, the ``pfs`` directory of a worker inside its own sandbox (``/pfs``)."""

    def __init__(self, bound: str | None = None, writable: str | None = None) -> None:
        self.root: Path | None = None
        self.generation = 0  # bumped whenever ``root`` is (re)made
        self.bound = bound
        # where the worker writes a bound ``pfs`` (user code sees it read-only at ``bound``)
        self.writable = writable or bound
        self.lost = False
        self._parent: str | None = None
        self._ident: tuple[int, int] = (0, 0)
        self._session: SandboxSession | None = None
        self._session_generation = 0
        umask = os.umask(0o022)
        os.umask(umask)
        self._mode = 0o777 & ~umask  # what a plain mkdir makes
        self._owner = (os.geteuid(), os.getegid())
        # the directories the last datum's cleanup left in ``pfs``, empty and as made
        # (None: not known, so look)
        self._left: set[str] | None = None
        # a bound ``pfs``, open from datum to datum (checked after each cleanup): a mount
        # point, which user code can neither move nor replace; -1: open it (and check it)
        self._bound_fd = -1

    @contextlib.contextmanager
    def datum(self, names: Iterable[str]) -> Iterator[Path]:
        """The scratch directory of one datum (``pfs/out`` empty, ``pfs/<name>`` empty)."""
        root, fd = self._ready()
        keep = {"out", *(n for n in names if _plain(n))}
        left, self._left = self._left, None
        try:
            try:
                if left is None:
                    with os.scandir(fd) as it:
                        extra = [(e.name, e.is_dir(follow_symlinks=False)) for e in it]
                    for name, is_dir in extra:
                        if name not in keep:
                            _remove_at(fd, name, is_dir)
                    for name in keep:
                        _fresh_dir_at(fd, name, self._mode, self._owner)
                else:  # no need to look: only the last cleanup touched ``pfs`` since
                    for name in left - keep:
                        _remove_at(fd, name, True)
                    for name in keep - left:
                        _fresh_dir_at(fd, name, self._mode, self._owner)
            except OSError:
                self._discard()
                raise
            try:
                yield root
            finally:
                # through the descriptor checked above: user code that moved ``pfs`` or
                # swapped what is in it for symlinks cannot redirect the removal
                try:
                    if self.bound is not None:
                        assert self.writable is not None
                        self._left = self._clean_bound(self.writable)
                        self._check_bound(fd)
                    else:
                        self._left = self._clean(fd)
                except OSError:
                    self._discard()
        finally:
            if fd != self._bound_fd:  # else kept for the next datum (-1: dropped)
                os.close(fd)

    def _check_bound(self, fd: int) -> None:
        """After a datum: the bound ``pfs`` (open as ``fd``) is still there, with its mode."""
        st = os.fstat(fd)
        if st.st_nlink == 0:
            self.lost = True  # removed (through its host path): nothing to mend
        elif stat.S_IMODE(st.st_mode) not in (self._mode, 0o755):
            os.fchmod(fd, self._mode)

    def _clean(self, fd: int) -> set[str]:
        """Empty ``pfs`` (open as ``fd``) but for its top-level directories, which are
        emptied and given back their owner and mode; their names."""
        with os.scandir(fd) as it:
            entries = [(e.name, e.is_dir(follow_symlinks=False)) for e in it]
        kept = set()
        for name, is_dir in entries:
            if not is_dir:
                os.unlink(name, dir_fd=fd)
                continue
            with _open_dir_at(fd, name) as sub:
                empty_dir_at(sub)
                _own(sub, self._mode, self._owner)
            kept.add(name)
        return kept

    def _clean_bound(self, pfs: str) -> set[str]:
        """:meth:`_clean` of a bound ``pfs`` by path, which lists in 5 system calls where
        a descriptor takes 8. Paths are safe here: the worker runs inside the sandbox
        with the very rights of the user code, so a swap of a directory for a symlink
        between a listing and its use could only make it remove what that code may
        remove itself (and a command's processes are all killed before the cleanup)."""
        with os.scandir(pfs) as it:
            entries = [(e.path, e.name, e.is_dir(follow_symlinks=False)) for e in it]
        kept = set()
        for path, name, is_dir in entries:
            if not is_dir:
                os.unlink(path)
                continue
            with os.scandir(path) as it:
                inner = [(e.path, e.is_dir(follow_symlinks=False)) for e in it]
            for inner_path, inner_is_dir in inner:
                _remove_at(None, inner_path, inner_is_dir)
            st = os.lstat(path)
            if (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) != (*self._owner, self._mode):
                with _open_dir_at(None, path) as sub:
                    _own(sub, self._mode, self._owner)
            kept.add(name)
        return kept

    def _open_pfs(self) -> int:
        """``pfs`` opened without following any symlink, and checked to be ours (same
        inode, private mode)."""
        assert self.root is not None
        flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
        if self.writable is not None:  # user code can neither move nor replace it
            st = os.stat(self.writable)  # (a /proc/self/fd link: followed)
            if stat.S_IMODE(st.st_mode) not in (self._mode, 0o755):
                os.chmod(self.writable, self._mode)  # else even its owner may not open it
            fd = os.open(self.writable, os.O_RDONLY | os.O_DIRECTORY)
            st = os.fstat(fd)
            if (st.st_dev, st.st_ino) != self._ident or st.st_nlink == 0:
                os.close(fd)
                raise OSError(f"{self.bound} was replaced or removed")
            return fd
        root_fd = os.open(self.root, flags)
        try:
            fd = os.open("pfs", flags, dir_fd=root_fd)
        finally:
            os.close(root_fd)
        try:
            st = os.fstat(fd)
            if (st.st_dev, st.st_ino) != self._ident:
                raise OSError(f"{self.root}/pfs was replaced")
            if stat.S_IMODE(st.st_mode) not in (self._mode, 0o755):
                os.fchmod(fd, self._mode)
        except OSError:
            os.close(fd)
            raise
        return fd

    def sandbox(
        self, hidden: tuple[str, ...] = (), visible: tuple[str, ...] | None = None
    ) -> SandboxSession:
        """The long-lived sandbox over the current ``pfs``, with ``hidden`` out of sight
        and ``visible`` in sight (see :func:`~loxo.execution.sandbox.root_args`; inside
        :meth:`datum` only)."""
        assert self.root is not None
        session = self._session
        stale = session is not None and self._session_generation != self.generation
        view = (hidden, visible)
        if session is not None and (stale or session.broken or session.view != view):
            self._stop_sandbox()
            session = None
        if session is None:
            session = self._session = SandboxSession(str(self.root / "pfs"), hidden, visible)
            self._session_generation = self.generation
        return session

    def close(self) -> None:
        """Stop the sandbox and remove the workspace."""
        if self._bound_fd >= 0:
            os.close(self._bound_fd)
            self._bound_fd = -1
        self._discard()

    def _stop_sandbox(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def _ready(self) -> tuple[Path, int]:
        """The workspace (made anew if missing, moved or changed) and its ``pfs`` open."""
        if self.bound is not None:
            return self._ready_bound()
        parent = os.environ.get("LOXO_SCRATCH") or None
        if self.root is not None and parent == self._parent:
            try:
                return self.root, self._open_pfs()
            except OSError:
                pass
        self._discard()
        if parent:
            os.makedirs(parent, exist_ok=True)
        root = Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))
        os.mkdir(root / "pfs", self._mode)
        st = os.lstat(root / "pfs")
        self.root, self._parent, self._ident = root, parent, (st.st_dev, st.st_ino)
        self.generation += 1
        return root, self._open_pfs()

    def _ready_bound(self) -> tuple[Path, int]:
        if self.lost:
            raise WorkspaceLost(f"{self.bound} cannot be used any more")
        if self.root is None:
            assert self.bound is not None and self.writable is not None
            st = os.stat(self.writable)
            self.root, self._ident = Path(os.path.dirname(self.bound)), (st.st_dev, st.st_ino)
            self.generation += 1
        try:
            if self._bound_fd < 0:
                self._bound_fd = self._open_pfs()
            elif os.fstat(self._bound_fd).st_nlink == 0:
                raise OSError(f"{self.bound} was removed")
        except OSError as e:
            self.lost = True
            raise WorkspaceLost(f"{self.bound} cannot be used any more: {e}") from None
        return self.root, self._bound_fd

    def _discard(self) -> None:
        self._left = None
        if self.bound is not None:
            self._bound_fd = -1  # open and check it again (a datum in progress closes it)
            self._empty_bound()
            return
        self._stop_sandbox()
        if self.root is not None:
            remove_tree(self.root)
            self.root = None

    def _empty_bound(self) -> None:
        """What a fresh workspace would be, in place: ``/pfs`` empty but for an empty
        ``out`` (the sandbox's writable mount: kept), also through directories user code
        made read-only; else :attr:`lost`."""
        assert self.writable is not None
        try:
            with os.scandir(self.writable) as it:
                entries = [(e.path, e.name, e.is_dir(follow_symlinks=False)) for e in it]
            for path, name, is_dir in entries:
                if is_dir and name == "out":
                    empty_dir(path)
                elif is_dir:
                    remove_tree(Path(path))
                else:
                    os.unlink(path)
            if os.listdir(self.writable) not in ([], ["out"]) or os.listdir(f"{self.writable}/out"):
                raise OSError(f"{self.bound} could not be emptied")
        except OSError:
            self.lost = True


def empty_dir_at(fd: int) -> None:
    """Remove everything in the directory open as ``fd`` (never following symlinks)."""
    with os.scandir(fd) as it:
        entries = [(e.name, e.is_dir(follow_symlinks=False)) for e in it]
    for name, is_dir in entries:
        _remove_at(fd, name, is_dir)


@contextlib.contextmanager
def _open_dir_at(fd: int | None, name: str) -> Iterator[int]:
    sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
    try:
        yield sub
    finally:
        os.close(sub)


def _remove_at(fd: int | None, name: str, is_dir: bool) -> None:
    if is_dir:
        with _open_dir_at(fd, name) as sub:
            empty_dir_at(sub)
        os.rmdir(name, dir_fd=fd)
    else:
        os.unlink(name, dir_fd=fd)


def _plain(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and "\0" not in name


def _fresh_dir_at(fd: int, name: str, mode: int, owner: tuple[int, int]) -> None:
    """``name`` in ``fd`` as a new or kept directory of ``owner`` (uid, gid) with ``mode``."""
    try:
        os.mkdir(name, mode, dir_fd=fd)
        return
    except FileExistsError:
        pass
    st = os.stat(name, dir_fd=fd, follow_symlinks=False)
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(name, dir_fd=fd)
        os.mkdir(name, mode, dir_fd=fd)
        return
    if (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) != (*owner, mode):
        with _open_dir_at(fd, name) as sub:
            _own(sub, mode, owner)


def _own(fd: int, mode: int, owner: tuple[int, int]) -> None:
    """The directory open as ``fd`` owned by ``owner`` with ``mode`` (unless it is)."""
    st = os.fstat(fd)
    if (st.st_uid, st.st_gid) != owner:
        os.fchown(fd, *owner)
    if stat.S_IMODE(st.st_mode) != mode:
        os.fchmod(fd, mode)
