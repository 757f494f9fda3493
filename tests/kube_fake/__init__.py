"""A local fake Kubernetes API server with a fake job controller and kubelet: test support for
the Kubernetes runner's controller, which no real cluster on this machine can exercise.

`FakeCluster` (a context manager) serves, on 127.0.0.1, the `batch/v1` Job and `v1` Pod paths
the `kubernetes` client calls (create, read, list and watch with equality label and field
selectors, delete with propagation, pod logs plain and followed); each Job gets one pod whose
container's command runs as a real process in its own process group. The tests drive what a
cluster does on its own with `evict`, `vanish` and `pass_deadline`, and observe with
`jobs_created`, `deleted_jobs`, `max_running`, `requests` and the `wait_for_*` helpers.

Not enforced by the clock: `activeDeadlineSeconds` (only `pass_deadline` applies it) and
`ttlSecondsAfterFinished` (a finished Job stays until deleted). Not modelled: retries
(`backoffLimit` above 0), parallelism, a pod's restart, the kubelet retrying a pod stuck on a
missing Secret or an unpullable image, `$(VAR)` expansion in commands, images (the command runs
on this machine), authentication. Deleting a Job without `propagationPolicy` orphans its pods,
as the real API does for `batch/v1` Jobs.
"""

from .cluster import FakeCluster, JobDeletion, RecordedRequest
from .objects import ApiError

__all__ = ["ApiError", "FakeCluster", "JobDeletion", "RecordedRequest"]
