"""Task sets: the datums a job runs, cut into the batches an executor schedules (pure).

``datum_set_spec`` decides the cut (SEMANTICS §2): ``number`` datums a set, or a set closes
once its inputs reach ``size_bytes``; by default about ``parallelism x per_worker`` sets
(4 per worker). Every set carries what its datums share: the transform, the job's
environment, the resources, tries and timeout. Sets are made one at a time, as the
executor takes them: the first set runs while the last ones are still to be made.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from loxo.execution.task import TaskSet

from .datums import Datum, datum_task
from .spec import PipelineSpec

__all__ = ["task_sets"]


def task_sets(
    spec: PipelineSpec,
    name: str,
    project: str,
    job_id: str,
    store_url: str,
    datums: list[Datum],
    private: tuple[str, ...] = (),
) -> Iterator[TaskSet]:
    """The task sets of job ``job_id`` of pipeline ``project/name`` running ``datums``
    (``private``: host paths its user code must not see, such as the loxo home)."""
    if not datums:
        return
    dss = spec.datum_set_spec
    sets_wanted = spec.parallelism * (dss.per_worker or 4)  # default: 4 sets per worker
    per_set = dss.number or max(1, math.ceil(len(datums) / sets_wanted))
    env = (
        ("PACH_JOB_ID", job_id),
        ("PACH_OUTPUT_COMMIT_ID", job_id),
        ("PPS_PIPELINE_NAME", name),
        ("PPS_PROJECT_NAME", project),
    )
    resources = tuple(sorted({**spec.resource_requests, **spec.resource_limits}.items()))

    def task_set(batch: list[Datum]) -> TaskSet:
        return TaskSet(
            job_id=job_id, pipeline=name, project=project, output_commit=job_id,
            transform=spec.transform, store_url=store_url,
            datums=tuple(datum_task(d) for d in batch), datum_tries=spec.datum_tries,
            datum_timeout=spec.datum_timeout, env=env, resources=resources, private=private,
        )  # fmt: skip

    batch: list[Datum] = []
    batch_bytes = 0
    for d in datums:
        batch.append(d)
        batch_bytes += sum(f.size for i in d.inputs for f in i.files)
        if len(batch) >= per_set or (dss.size_bytes and batch_bytes >= dss.size_bytes):
            yield task_set(batch)
            batch, batch_bytes = [], 0
    if batch:
        yield task_set(batch)
