"""pps: pipelines — data-driven, parallel, incremental processing of versioned data.

A **pipeline** watches input branches. Each finished input commit starts a **job** with the
same ID (the commit set), which splits the input commits into **datums** by glob patterns
(combined by cross, union, join and group), runs the user's code on every datum through an
executor, and writes the union of the datums' outputs as a commit of the pipeline's output
repo, with the exact input commits as provenance.

Invariants:

- datum ID = f(input names, repos, branches, paths); datum hash = f(datum ID, input content
  hashes, pipeline salt). A datum is skipped iff the base job (the latest earlier successful
  job) processed the same ID with the same hash successfully;
- the output commit holds exactly the outputs of the job's current datums; outputs of
  removed or re-run datums disappear; two datums writing one path fail the job;
- every step is persisted: a job interrupted by a crash resumes and ends as a clean run;
- one driver at a time writes a job's results: each claim raises the job's fencing token and
  every result write checks it, so a driver whose lease expired can never write again.

Modules: ``spec`` (specs and validation), ``datums`` (pure datum iteration, IDs, hashes),
``plan`` (pure diff against the base job), ``delta`` (pure: the datums a commit diff can
affect, so an incremental job need not re-list its inputs), ``planning`` (choosing the base
job and planning a job, from the diff or a full listing), ``tasksets`` (pure: cutting datums
into task sets), ``claim`` (which process runs which job; fencing), ``record`` (batched datum
results), ``finish`` and ``assemble`` (counters, output commits, ending a job), ``jobs``
(job creation, queries), ``pipelines`` (lifecycle), ``driver`` (running jobs),
``datum_queries`` (datums and logs after the fact), ``cron``, ``egress``, ``draw``.
"""
