"""execution: where datums run. Knows nothing of repos, pipelines or the database.

**Executors.** ``pps`` decides *what* runs; an :class:`Executor` decides *where*. It takes
**datum sets** (:class:`TaskSet`: a transform, the job's environment, and datum tasks
whose inputs are chunk references into the object store, never bytes) and streams back a
:class:`DatumResult` per datum as each finishes: its state, attempts, timings, captured
log lines and a reference to its output fileset. Implementations, opened by name with
:func:`open_executor`:

- ``inline`` — this process, one datum after another (tests, debugging);
- ``local`` — a pool of warm worker processes, reused across sets and jobs, replaced when
  they die;
- ``ray`` — a Ray cluster (the ``loxo[ray]`` extra).

Every executor keeps the same rules (``executor.py``) and passes the same conformance
suite: at most ``parallelism`` sets at once; a set whose worker dies runs again (so a
datum may run twice: tasks are idempotent and results are keyed by ``(job, datum)``);
``cancel`` and ``restart_datum`` kill whole process groups.

**The worker runtime** (``runtime.run_datum``) runs one datum: materialise its inputs at
``/pfs/<input>/<original path>`` with verified reads, run the transform with the
Pachyderm environment (``PACH_DATUM_ID``, ``<input>``, ...) — a command (argv, no shell,
own process group, optional user) or a Python function (``"module:function"``, imported
once per worker) — retry failed attempts up to ``datum_tries``, fall back to ``err_cmd``
(RECOVERED), then check and upload ``/pfs/out`` as the datum's output fileset (a symlink
to a file or directory of the datum's inputs is stored by reference, with the input's
chunks: ``output_links``). Scratch space is always removed; a datum's processes never
outlive it.

**The sandbox.** On Linux with bubblewrap, each command runs in its own mount and PID
namespace where the datum's scratch directory *is* ``/pfs``, exactly as in a Pachyderm
container, and one scratch ``/pfs`` serves a worker's datums, emptied between them
(``workspace``). A local worker that runs commands lives inside such a sandbox itself,
starts them directly and kills every other process of the sandbox when one ends
(``sandbox_worker``); a Ray worker keeps a long-lived sandbox with an exec agent inside
that does the same (``sandbox_session``, ``sandbox_agent``); a command that switches users
gets a sandbox of its own.
Elsewhere (or with ``LOXO_SANDBOX=0``) the files stay in the scratch directory,
``LOXO_PFS`` names it, and ``/pfs`` paths in the command, stdin and pipeline variables
are rewritten to it, so the same pipeline works in both modes.
"""

from __future__ import annotations

from .executor import Executor, ExecutorClosed
from .registry import open_executor, register_executor
from .task import (
    DatumInput,
    DatumResult,
    DatumState,
    DatumTask,
    InputFile,
    LogLine,
    TaskSet,
    Transform,
)

__all__ = [
    "DatumInput",
    "DatumResult",
    "DatumState",
    "DatumTask",
    "Executor",
    "ExecutorClosed",
    "InputFile",
    "LogLine",
    "TaskSet",
    "Transform",
    "open_executor",
    "register_executor",
]
