"""cli: the ``loxo`` command, a thin front door over :class:`loxo.Client`.

The grammar is pachctl's, ``loxo [--home PATH] VERB NOUN ARGS...``::

    loxo create repo images -d "raw photos"
    loxo put file images@master:/raw -r -f ./photos
    loxo list file images@master^:/raw
    loxo get file images@master:/raw/a.png -o a.png
    loxo diff file images@master images@master.1

    loxo create pipeline -f edges.yaml
    loxo list job edges -n 5
    loxo logs --pipeline edges --tail 20

Verbs (``create``, ``list``, ``put``...) are click groups; nouns (``repo``, ``branch``,
``commit``, ``file``, ``pipeline``, ``job``, ``datum``) are their sub-commands, defined per
noun in ``repo_cmds``, ``branch_cmds``, ``commit_cmds``, ``file_read_cmds``,
``file_write_cmds``, ``pipeline_spec_cmds`` (the commands taking a spec file),
``pipeline_cmds``, ``job_cmds`` and ``datum_cmds``; ``admin_cmds`` holds the noun-less
``gc``, ``fsck`` and ``version``, ``logs_cmds`` the ``logs`` command.

A ref is ``[project/]repo[@branch-or-commit-id[ancestry]][:/path]`` as defined in
:mod:`loxo.pfs.refs`: ``images@master^2``, ``images@master.1``, ``images@<32-hex id>``. A bare
32-hex argument to ``list|wait|squash|delete commit`` and ``list job`` names a whole commit
set. A job is ``[project/]pipeline@<job id>``.

Jobs run in the ``loxo`` process (:mod:`.driving`): a command that finishes input commits
runs the jobs they start before it returns, and any other command first runs jobs left
pending, except under ``--no-wait`` (``LOXO_NO_WAIT=1``) and for ``logs -f``, ``stop``,
``delete pipeline`` and ``restart datum``, which act on pending jobs; ``wait commit|job``
always run them. A command that waited for a job that did not succeed exits 10
(:mod:`.outcome`); its write stands.

Invariants:

- a command parses its arguments, calls one client method and formats the result
  (:mod:`.output`); it never catches a loxo error;
- exceptions become exit codes in exactly one place, :func:`loxo.cli.main.main`: a
  :class:`~loxo.errors.LoxoError` prints ``error: <message>`` on one stderr line and exits
  with its ``exit_code``; usage errors exit 2 (click); Ctrl-C exits 130; anything else is an
  internal error (exit 70); ``docs/exit-codes.md`` lists them all. Tracebacks only with
  ``LOXO_DEBUG=1``;
- the store (``--home``, else ``$LOXO_HOME``, else ``~/.loxo``) is opened only when a command
  needs it, and closed when the command ends;
- listing and inspecting commands print aligned tables, or ``-o json`` / ``-o yaml`` of the
  records' ``to_dict()``; progress bars go to stderr, and only when it is a terminal; one
  summary line per job run goes to stderr.
"""
