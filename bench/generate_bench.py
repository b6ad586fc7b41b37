"""Generation benchmark, one run, one table: bare `pythia.next()`, `Pythia.nextBatch`, the full chain (Pythia 8 +
vectorised particle extraction + detector + FastJet + N-subjettiness + Delphes-format ROOT) in one process, and the
full chain with 2 dask workers; rates against bare `next()` with the same settings.

    python bench/generate_bench.py [--process qcd] [--events 1000]

Goals (issue 17): full chain in one process >= 0.9 of bare `next()`; with 2 dask workers >= 1.8x.
"""
import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("JETAD_PROGRESS", "0")
from jetad_nb.generate import _pythia  # noqa: E402  (a bench of the module's own generator set-up)
from jetad_nb.generate import generate  # noqa: E402
from jetad_nb.generate import generate_many  # noqa: E402


def bare_pythia(process, n, seed, batch=False):
    "Seconds for n successful events (initialisation excluded) with next() or nextBatch(200)."
    py = _pythia(process, seed)
    t0 = time.perf_counter()
    done = 0
    while done < n:
        done += len(py.nextBatch(min(200, n - done), "skip")) if batch else bool(py.next())
    return time.perf_counter() - t0

def pythia_init(process, seed):
    "Seconds of one Pythia initialisation (included in every chain row)."
    t0 = time.perf_counter()
    _pythia(process, seed)
    return time.perf_counter() - t0

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--process", default="qcd")
    ap.add_argument("--events", type=int, default=1000)
    a = ap.parse_args()
    n, rows = a.events, []
    t_bare = bare_pythia(a.process, n, 1)
    rows.append(("bare pythia.next()", 1, t_bare))
    rows.append(("pythia.nextBatch(200), no extraction", 1, bare_pythia(a.process, n, 1, batch=True)))
    t_init = pythia_init(a.process, 1)
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        generate(a.process, n, Path(d) / "one.root", seed=1, truth=False)
        rows.append(("full chain, one process", 1, time.perf_counter() - t0))
        t0 = time.perf_counter()
        generate_many(a.process, n, Path(d) / "w2", seed=1, n_jobs=2, workers=2, truth=False)
        rows.append(("full chain, 2 dask workers", 2, time.perf_counter() - t0))
    print(f"\ngenerate_bench: process {a.process}, {n} events each row, {os.cpu_count()} CPUs; Pythia init "
          f"{t_init:.2f} s (included in the chain rows, not in the Pythia rows)")
    print(f"{'what':<38} {'workers':>7} {'seconds':>8} {'events/s':>9} {'x bare':>7} {'goal':>6}")
    goals = {"full chain, one process": ">=0.90", "full chain, 2 dask workers": ">=1.80"}
    for what, w, t in rows:
        print(f"{what:<38} {w:>7} {t:8.2f} {n / t:9.1f} {t_bare / t:7.2f} {goals.get(what, ''):>6}")

if __name__ == "__main__":
    main()
