"""A local worker's slot of shared memory: what it is running, read by its parent at need.

Telling the parent by message which datum starts, and which process group each command
runs in, would wake the parent for every datum, and small datums are many. Instead the
parent gives each worker a slot of two 64-bit words in shared memory (passed at start);
the worker writes it as it goes, and the parent reads it only when it needs to know: when
the worker died (which datum loses an attempt, which process group to kill) or when a
datum is to be restarted.

- ``running``: the set (by the sequence number the parent gave it, modulo 2**31) and the
  index in that set of the datum the worker runs or last ran, written before the datum
  starts; -1 until the first one;
- ``pgid``: the process group of the command now running outside the long-lived sandbox,
  0 when none. It is cleared before the command's leader is reaped, so a parent that
  kills it never reaches a recycled group.

Each word has one writer and is stored whole (an aligned 64-bit store), so a reader sees
the old value or the new one, never a mix.
"""

from __future__ import annotations

import mmap
import os
from typing import Any

_SIZE = 16  # two 64-bit words
_SEQ_MASK = (1 << 31) - 1
_INDEX_MASK = (1 << 32) - 1


class WorkerSlot:
    """The two words; made by the parent with its ``multiprocessing`` context, then pickled
    to the worker with the other arguments of its process -- or, for a worker started
    without ``multiprocessing`` (:mod:`~loxo.execution.sandbox_worker`), in a memory file
    whose descriptor the worker inherits (:meth:`in_memfd`, :meth:`attach`)."""

    def __init__(self, ctx: Any = None, *, words: Any = None) -> None:
        self._words = words if words is not None else ctx.RawArray("q", 2)
        if words is None:
            self._words[0] = -1
        self.fd = -1  # the memory file's descriptor, if any (the parent's to pass on)

    @classmethod
    def in_memfd(cls) -> WorkerSlot:
        """A slot in a new memory file (its descriptor: :attr:`fd`, not inheritable)."""
        fd = os.memfd_create("loxo-worker-slot", os.MFD_CLOEXEC)
        try:
            os.ftruncate(fd, _SIZE)
            slot = cls(words=_map(fd))
        except BaseException:
            os.close(fd)
            raise
        slot._words[0] = -1
        slot.fd = fd
        return slot

    @classmethod
    def attach(cls, fd: int) -> WorkerSlot:
        """The slot in the memory file ``fd`` (in the worker; the descriptor is closed)."""
        try:
            return cls(words=_map(fd))
        finally:
            os.close(fd)

    def close_fd(self) -> None:
        """Close the memory file's descriptor (the mapping stays)."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    # --- written by the worker -----------------------------------------------------------

    def running(self, seq: int, index: int) -> None:
        """Datum ``index`` of set ``seq`` starts."""
        self._words[0] = (seq & _SEQ_MASK) << 32 | index

    def process(self, pgid: int | None) -> None:
        """A command's process group started (``pgid``) or ended (None)."""
        self._words[1] = pgid or 0

    # --- read by the parent --------------------------------------------------------------

    def datum_index(self, seq: int) -> int | None:
        """The index of the datum of set ``seq`` running or last run (None: none yet)."""
        word = self._words[0]
        if word < 0 or word >> 32 != seq & _SEQ_MASK:
            return None
        return int(word & _INDEX_MASK)

    def pgid(self) -> int | None:
        return int(self._words[1]) or None


def _map(fd: int) -> memoryview:
    """The two words of memory file ``fd`` (shared: both sides map the same pages; an
    aligned 64-bit item of a memoryview is stored whole, like a ``RawArray``'s)."""
    return memoryview(mmap.mmap(fd, _SIZE)).cast("q")
