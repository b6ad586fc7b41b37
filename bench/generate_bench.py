"""Generation benchmark: events/s of the full chain (Pythia 8 + particle extraction + detector + FastJet +
N-subjettiness + Delphes-format ROOT) against a bare `pythia.next()` loop with the same settings, in one run;
then the full chain with 1 and 2 dask workers.

    python bench/generate_bench.py [--process qcd] [--events 1000]
"""
import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("JETAD_PROGRESS", "0")
from jetad_nb.generate import generate
from jetad_nb.generate import generate_many
from jetad_nb.generate import pythia_settings


def bare_pythia(process, n, seed):
    import pythia8mc
    py = pythia8mc.Pythia("", False)
    for s in pythia_settings(process, seed):
        py.readString(s)
    py.init()
    t0 = time.perf_counter()
    done = 0
    while done < n:
        done += bool(py.next())
    return time.perf_counter() - t0

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--process", default="qcd")
    ap.add_argument("--events", type=int, default=1000)
    a = ap.parse_args()
    n = a.events
    rows = []
    t_bare = bare_pythia(a.process, n, 1)
    rows.append(("bare pythia.next()", 1, t_bare))
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        generate(a.process, n, Path(d) / "one.root", seed=1, truth=False)
        t_full = time.perf_counter() - t0
        rows.append(("full chain, in process", 1, t_full))
        for w in (1, 2):
            t0 = time.perf_counter()
            generate_many(a.process, n, Path(d) / f"w{w}", seed=1, n_jobs=2, workers=w, truth=False)
            rows.append((f"full chain, {'dask LocalCluster' if w > 1 else 'serial jobs'}", w, time.perf_counter() - t0))
    print(
        f"\ngenerate_bench: process {a.process}, {n} events each row (includes Pythia initialisation in the chain rows)"
    )
    print(f"{'what':<34} {'workers':>7} {'seconds':>8} {'events/s':>9} {'ratio':>7}")
    for what, w, t in rows:
        ratio = (n / t) / (n / t_bare) if w == 1 else (n / t) / (n / rows[2][2])
        print(f"{what:<34} {w:>7} {t:8.2f} {n / t:9.1f} {ratio:7.2f}")
    print(
        "ratio: 1-worker rows against bare Pythia (goal >= 0.75); the 2-worker row against the serial jobs (ideal 2.0)"
    )

if __name__ == "__main__":
    main()
