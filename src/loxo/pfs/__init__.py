"""pfs: versioned data — projects, repos, branches, commits and files.

A **commit** is an immutable snapshot: a fileset root (see :mod:`loxo.storage.fileset`) plus
metadata (parent, branch, origin, times, size, provenance) in the metadata DB. A **branch**
points at a commit; writing to a branch makes a new commit whose parent is the old head.
Commit IDs are shared by a **commit set**: every commit one change caused across repos.

Invariants:

- atomicity: a commit's root, state and the branch head change in one DB transaction; a
  reader through a branch sees only finished commits; a crash never exposes half a commit;
- paths are absolute, normalised (:mod:`.paths`), and never both a file and a directory;
- refs follow the ancestry grammar of :mod:`.refs` (``repo@branch^2``, ``repo@branch.3``,
  ``repo@ID:/path``); globs follow :mod:`.glob`;
- a writer in progress holds a heartbeating lease (:mod:`.leases`); garbage collection never
  removes what a live lease's holder may still reference.

:class:`loxo.pfs.api.PFS` is the façade; operation modules are mixins over ``core.Core``.
"""
