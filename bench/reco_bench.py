"""Where the generation chain's time goes per event, and the ceiling that sets for 2 dask workers on 2 cores.

One process, one run: bare `pythia.next()` (after initialisation), Pythia through `pythia_events` (nextBatch and
the extraction of the visible particles, no prefetch), the detector, `reconstruct` (truth=False, as production and
`generate_bench.py`), FastJet's two anti-kt clusterings alone on the same energy-flow candidates, and the ROOT writing
of the reconstructed chunks. Two workers on two cores each run Pythia and its reconstruction in turn, so they reach
at most 2 T_pythia / (T_pythia + T_chain) of one bare process; issue 17's goal of 1.8x needs T_chain <= T_pythia / 9.
The last line gives the same ceiling with only the compiled floor (FastJet, the detector's numpy, the writing), as if
every line of Python around them cost nothing.

    python bench/reco_bench.py [--events 2000] [--pt-hat-min 450]
"""
import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("JETAD_PROGRESS", "0")
import fastjet  # noqa: E402
import numpy as np  # noqa: E402

from jetad_nb.clustering import pseudojets  # noqa: E402
from jetad_nb.generate import Detector  # noqa: E402
from jetad_nb.generate import _candidates  # noqa: E402  (a bench of the module's own parts)
from jetad_nb.generate import _pythia  # noqa: E402
from jetad_nb.generate import pythia_events  # noqa: E402
from jetad_nb.generate import reconstruct  # noqa: E402
from jetad_nb.generate import simulate_detector  # noqa: E402
from jetad_nb.io import write_delphes  # noqa: E402


def fastjet_alone(cand, r):
    "Seconds of FastJet's anti-kt clustering, inclusive jets and constituent indices on the candidates (no wrapping)."
    pj = pseudojets(cand)   # the four-vectors cluster_jets hands to FastJet (not timed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        cs = fastjet.ClusterSequence(pj, fastjet.JetDefinition(fastjet.antikt_algorithm, r))
        cs.inclusive_jets(min_pt=20.0)
        cs.constituent_index(min_pt=20.0)
        return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--pt-hat-min", type=float, default=450.0)
    a = ap.parse_args()
    n, opt, t = a.events, dict(pt_hat_min=a.pt_hat_min), {}
    t0 = time.perf_counter()
    py = _pythia("qcd", 1, **opt)
    t_init = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(n):
        py.next()
    t["bare pythia.next() (after initialisation)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    chunks = list(pythia_events("qcd", n, seed=1, prefetch="none", **opt))
    t["pythia_events: nextBatch + extraction (with init)"] = time.perf_counter() - t0
    rng, out, n_cand = np.random.default_rng(1), [], 0
    for k in ("detector (simulate_detector)", "reconstruct (truth=False)", "  FastJet anti-kt R = 1.0 alone",
              "  FastJet anti-kt R = 0.4 alone", "ROOT writing (write_delphes, zstd)"):
        t[k] = 0.0
    for parts, counts in chunks:
        t0 = time.perf_counter()
        det = simulate_detector(parts, counts, rng, Detector())
        t["detector (simulate_detector)"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        out.append(reconstruct(det, 1.0, 200.0, truth=False))
        t["reconstruct (truth=False)"] += time.perf_counter() - t0
        _, cnt, cand = _candidates(det, det["n_events"])
        n_cand += int(cnt.sum())
        t["  FastJet anti-kt R = 1.0 alone"] += fastjet_alone(cand, 1.0)
        t["  FastJet anti-kt R = 0.4 alone"] += fastjet_alone(cand, 0.4)
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        write_delphes(Path(d) / "out.root", out)
        t["ROOT writing (write_delphes, zstd)"] = time.perf_counter() - t0
    ms = {k: 1e3 * v / n for k, v in t.items()}
    t_py = ms["bare pythia.next() (after initialisation)"]
    extraction = ms["pythia_events: nextBatch + extraction (with init)"] - t_py - 1e3 * t_init / n
    chain = extraction + ms["detector (simulate_detector)"] + ms["reconstruct (truth=False)"] + \
        ms["ROOT writing (write_delphes, zstd)"]
    floor = ms["detector (simulate_detector)"] + ms["ROOT writing (write_delphes, zstd)"] + \
        ms["  FastJet anti-kt R = 1.0 alone"] + ms["  FastJet anti-kt R = 0.4 alone"]
    print(f"\nreco_bench: QCD, pT-hat > {a.pt_hat_min:.0f} GeV, MPI on, {n} events, {n_cand / n:.0f} energy-flow "
          f"candidates per event, {os.cpu_count()} CPUs; Pythia's initialisation {t_init:.2f} s (subtracted)")
    print(f"{'part':<52} {'ms/event':>9}")
    for k, v in ms.items():
        print(f"{k:<52} {v:9.3f}")
    print(f"{'T_chain: extraction, detector, reco, ROOT':<52} {chain:9.3f}")
    print(f"budget for 1.8x with 2 workers on 2 cores: T_chain <= T_pythia / 9 = {t_py / 9:.3f} ms")
    print(f"2-worker ceiling: 2 T_pythia / (T_pythia + T_chain) = {2 * t_py / (t_py + chain):.2f}; with only the "
          f"compiled floor (FastJet, detector, writing: {floor:.3f} ms) = {2 * t_py / (t_py + floor):.2f}")


if __name__ == "__main__":
    main()
