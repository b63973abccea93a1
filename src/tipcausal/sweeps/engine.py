"""Sweep fits on Dask: an embedded local cluster by default, or an existing scheduler by address.

The embedded cluster (``distributed.LocalCluster``) listens on 127.0.0.1 only (a Dask scheduler runs whatever it is
sent), has no dashboard unless asked, and starts worker processes with ``spawn`` (JAX is not fork-safe), one
thread each, with ``XLA_FLAGS`` (``sampling.xla_flags``: one JAX host device per chain) set before the worker starts
(``distributed.nanny.pre-spawn-environ``): Dask's workers are daemonic, so chains cannot be processes and run as JAX
devices inside the worker. A worker keeps its compiled programs between fits (the density cache is per process), and
the executable store (``inference.executables``) serves a new worker. An external scheduler (``dask scheduler`` with
``dask worker`` processes, dask-jobqueue, Kubernetes) is reached by address, with TLS settings from the Dask config
or a ``Security`` object; the fit store must then be on a path every worker sees.

Dask replaces a worker that dies and runs its fit again elsewhere (``distributed.scheduler.allowed-failures``); a
fit that raises is a row with its reason (``sweeps.task``). Each task's key is its fit key, so resubmitting the same
fit while it runs attaches to it.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from typing import Any, Iterator

from tipcausal.sweeps.definition import FitTask
from tipcausal.sweeps.task import FitResult, empty_row, run_fit

log = logging.getLogger(__name__)
Say = Callable[[str], None]


def default_workers() -> int:
    """Workers for the embedded cluster: one per two cores (each fit runs its chains on about two cores)."""
    return max(1, (os.cpu_count() or 1) // 2)


@contextmanager
def dask_client(scheduler: str | None = None, *, workers: int | None = None, chains: int = 4,
                security: Any = None, dashboard: bool = False) -> Iterator[Any]:
    """A ``distributed.Client``: on ``scheduler`` (an address) if given, else on an embedded local cluster of
    ``workers`` processes. Closed (and the embedded cluster shut down) on exit."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler is not None:
        client = Client(scheduler, security=security, timeout="30s")
        try:
            yield client
        finally:
            client.close()
        return
    from tipcausal.inference.sampling import xla_flags

    n = workers or default_workers()
    config = {"distributed.worker.multiprocessing-method": "spawn",
              "distributed.nanny.pre-spawn-environ.XLA_FLAGS": xla_flags(chains)}
    with dask.config.set(config):
        # without a dashboard the scheduler still serves HTTP (health, metrics), by default on port 8787 of every
        # interface: on 127.0.0.1 and a free port instead, so two sweeps never contend for it
        quiet = {} if dashboard else {"scheduler_kwargs": {"dashboard": False, "dashboard_address": "127.0.0.1:0"}}
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address="127.0.0.1:8787" if dashboard else None, security=security, **quiet)
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
            cluster.close()


def _eta(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "unknown"
    return f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"


def run_tasks(client: Any, tasks: Sequence[FitTask], store_root: str, say: Say | None = None
              ) -> dict[str, FitResult]:
    """Run every distinct task on ``client``'s cluster (tasks with the same fit key run once); returns each
    result by fit key. Progress (done, running,
    failed, remaining, ETA) goes to ``say``; Ctrl-C cancels what is still queued and re-raises."""
    from distributed import as_completed

    tasks = list({t.key: t for t in tasks}.values())  # specifications that reduce to the same fit share it
    futures = {client.submit(run_fit, t, store_root, key=f"tipcausal-fit-{t.key}", pure=False, retries=1): t
               for t in tasks}
    results: dict[str, FitResult] = {}
    start, fresh_s, fresh = time.perf_counter(), 0.0, 0
    failed = reused = 0
    try:
        for future in as_completed(futures):
            task = futures[future]
            if future.status == "finished":
                result = future.result()
            else:  # the task itself failed: its worker died too often (KilledWorker), or it was lost
                exc = future.exception()
                result = FitResult(row=empty_row(task, "error", f"{type(exc).__name__}: {exc}"), reused=False,
                                   seconds=0.0, worker="")
            results[task.key] = result
            failed += result.row["status"] != "ok"
            reused += result.reused
            if not result.reused and result.row["status"] != "error":
                fresh += 1
                fresh_s += result.seconds
            if say is not None:
                done = len(results)
                info = client.scheduler_info().get("workers", {})
                threads = {w: int(i.get("nthreads", 1)) for w, i in info.items()}
                running = sum(min(len(v), threads.get(w, 1)) for w, v in client.processing().items())
                n_workers = max(1, len(info))
                left = len(tasks) - done
                eta = (fresh_s / fresh) * left / n_workers if fresh else float("nan")
                say(f"[sweep] {done}/{len(tasks)} done ({reused} from the store, {failed} failed or not "
                    f"converged), {running} running, {left} remaining; ETA {_eta(eta)} "
                    f"({task.outcome} {task.spec_id}: {result.row['status']}, {result.seconds:.0f} s)")
    except BaseException:
        client.cancel(list(futures))
        raise
    log.info("sweep tasks done in %.1f s", time.perf_counter() - start)
    return results


def worker_peak_memory(client: Any) -> dict[str, float]:
    """Each worker's peak resident memory so far, in MB."""
    def peak() -> float:
        import resource
        import sys

        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024

    return {str(k): float(v) for k, v in client.run(peak).items()}


def fit_on_cluster(tasks: Sequence[FitTask], store_root: str, *, scheduler: str | None = None,
                   workers: int | None = None, security: Any = None, say: Say | None = None
                   ) -> tuple[dict[str, FitResult], dict[str, float]]:
    """Every task on a Dask cluster (``dask_client``), through the store at ``store_root``: each result by fit
    key, and each worker's peak resident memory in MB."""
    with dask_client(scheduler, workers=workers, chains=tasks[0].settings.chains, security=security) as client:
        if say is not None:
            say(f"[sweep] Dask scheduler {client.scheduler.address}, "
                f"{len(client.scheduler_info()['workers'])} worker(s)")
        return run_tasks(client, tasks, store_root, say), worker_peak_memory(client)
