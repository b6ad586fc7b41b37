"""Generation benchmark, one run, one table: bare `pythia.next()` (one process, and two processes side by side),
`Pythia.nextBatch`, the full chain (Pythia 8 + vectorised particle extraction + detector + FastJet + N-subjettiness +
Delphes-format ROOT) in one process with Pythia run ahead in a background thread (`prefetch="thread"`: no overlap,
`nextBatch` holds the GIL) and in a child process (the default `prefetch="process"`: the reconstruction of one chunk
overlaps Pythia's next, on a second core), and the full chain with 2 dask workers (each a daemon process: Pythia in
turn with its reconstruction); rates against bare `next()` with the same settings.

    python bench/generate_bench.py [--process qcd] [--events 2000] [--pt-hat-min 450] [--no-mpi]

Every row counts one Pythia initialisation per process (the chain pays it too). The 2-worker row runs on a dask
cluster started and warmed up (imports) before its clock starts, as a production run of hundreds of jobs uses one
cluster; the start-up is printed apart. The row "bare next(), 2 processes" is what this machine's cores allow.

Goals (issue 17): full chain in one process >= 0.9 of bare `next()`; with 2 dask workers >= 1.8x.
"""
import argparse
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

os.environ.setdefault("JETAD_PROGRESS", "0")
from jetad_nb.generate import _pythia  # noqa: E402  (a bench of the module's own generator set-up)
from jetad_nb.generate import generate  # noqa: E402
from jetad_nb.generate import generate_many  # noqa: E402


def bare_pythia(process, n, seed, batch=False, **options):
    "Seconds for one initialisation and n successful events with next() or nextBatch(200)."
    t0 = time.perf_counter()
    py = _pythia(process, seed, **options)
    done = 0
    while done < n:
        done += len(py.nextBatch(min(200, n - done), "skip")) if batch else bool(py.next())
    return time.perf_counter() - t0


def gil_share(process, **options):
    "Speed of a counting Python thread beside nextBatch(200) and beside 200 next() calls, as shares of it alone."
    import threading
    py = _pythia(process, 1, **options)

    def rate(work):
        stop, out = threading.Event(), []
        t = threading.Thread(target=lambda: out.append(sum(1 for _ in iter(stop.is_set, True))))
        t0 = time.perf_counter()
        t.start()
        work()
        stop.set()
        t.join()
        return out[0] / (time.perf_counter() - t0)
    alone = rate(lambda: time.sleep(1.0))
    return rate(lambda: py.nextBatch(200, "skip")) / alone, rate(lambda: [py.next() for _ in range(200)]) / alone


def bare_two(process, n, **options):
    "Wall seconds of two processes side by side, each making n / 2 events with next()."
    with ProcessPoolExecutor(2) as pool:
        pool.submit(int, 0).result()   # both processes started before the clock
        pool.submit(int, 0).result()
        t0 = time.perf_counter()
        futs = [pool.submit(bare_pythia, process, n // 2, s, **options) for s in (1, 2)]
        [f.result() for f in futs]
        return time.perf_counter() - t0


def dask_chain(process, n, d, **options):
    "(start-up s, chain s): the full chain with 2 dask workers on a cluster started before the clock."
    from dask.distributed import Client
    from dask.distributed import LocalCluster
    t0 = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            client.run(lambda: __import__("jetad_nb.generate"))   # the workers' imports, as on a running cluster
            t_start = time.perf_counter() - t0
            t0 = time.perf_counter()
            generate_many(process, n, Path(d) / "w2", seed=1, n_jobs=2, scheduler=cluster.scheduler_address,
                          truth=False, **options)
            return t_start, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--process", default="qcd")
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--pt-hat-min", type=float, default=450.0)
    ap.add_argument("--no-mpi", action="store_true", help="multiparton interactions off (as the R&D production)")
    a = ap.parse_args()
    n, rows, opt = a.events, [], dict(pt_hat_min=a.pt_hat_min, mpi=not a.no_mpi)
    share = gil_share(a.process, **opt)
    t_bare = bare_pythia(a.process, n, 1, **opt)
    rows.append(("bare pythia.next()", 1, t_bare))
    rows.append(("bare pythia.next(), 2 processes", 2, bare_two(a.process, n, **opt)))
    rows.append(("pythia.nextBatch(200), no extraction", 1, bare_pythia(a.process, n, 1, batch=True, **opt)))
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        generate(a.process, n, Path(d) / "one.root", seed=1, truth=False, prefetch="thread", **opt)
        rows.append(("full chain, one process (thread)", 1, time.perf_counter() - t0))
        t0 = time.perf_counter()
        generate(a.process, n, Path(d) / "child.root", seed=1, truth=False, **opt)
        rows.append(("full chain, Pythia in a child process", 1, time.perf_counter() - t0))
        t_start, t = dask_chain(a.process, n, d, **opt)
        rows.append(("full chain, 2 dask workers", 2, t))
    print(f"\ngenerate_bench: process {a.process}, pT-hat > {a.pt_hat_min:.0f} GeV, MPI {'off' if a.no_mpi else 'on'}, "
          f"{n} events each row, {os.cpu_count()} CPUs; dask cluster start-up {t_start:.1f} s (not in the table)")
    print(f"a Python thread beside nextBatch runs at {share[0]:.0%} of its speed alone (beside next() calls: "
          f"{share[1]:.0%}): nextBatch holds the GIL, so only a child process overlaps Pythia with the reconstruction")
    print(f"{'what':<40} {'workers':>7} {'seconds':>8} {'events/s':>9} {'x bare':>7} {'goal':>6}")
    goals = {"full chain, Pythia in a child process": ">=0.90", "full chain, 2 dask workers": ">=1.80"}
    for what, w, t in rows:
        print(f"{what:<40} {w:>7} {t:8.2f} {n / t:9.1f} {t_bare / t:7.2f} {goals.get(what, ''):>6}")


if __name__ == "__main__":
    main()
