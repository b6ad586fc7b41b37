"""Jet-image throughput: `jetad_nb.images.jet_images` (vectorised over jets) against a per-jet numpy loop
written the way the original method-A code did it (centroid, np.cov + eigh, rotation, flip, histogram2d,
normalise for each jet in turn), on the same jets in the same run, one core.

    python bench/images_bench.py [--jets 100000] [--loop-jets 100000] [--npix 40]

The jets are the shipped QCD sample (data/qcd.h5) repeated up to --jets. Prints a table.
Goals (issue 4): vectorised >= 50x the loop and >= 100k jets/s at 40x40.
"""
import argparse
import os
import platform
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
import awkward as ak
import numpy as np

from jetad_nb.core import data_dir
from jetad_nb.images import jet_images
from jetad_nb.io import read_jets_h5


def loop_images(eta, phi, pt, offsets, jet_eta, jet_phi, npix=40, extent=1.0):
    "The per-jet reference: one numpy pass per jet, as in the original code (with the phi wrap it lacked)."
    out = np.empty((len(offsets) - 1, npix, npix), np.float32)
    edges = np.linspace(-extent, extent, npix + 1)
    for j in range(len(offsets) - 1):
        e, p, w = eta[offsets[j]:offsets[j + 1]], phi[offsets[j]:offsets[j + 1]], pt[offsets[j]:offsets[j + 1]]
        p = (p - jet_phi[j] + np.pi) % (2 * np.pi) - np.pi
        x = e - np.average(e, weights=w)
        y = p - np.average(p, weights=w)
        if len(w) > 1:
            cov = np.cov(np.vstack([x, y]), aweights=w)
            vals, vecs = np.linalg.eigh(cov)
            ax = vecs[:, np.argmax(vals)]
            a = np.pi / 2 - np.arctan2(ax[1], ax[0])
            x, y = x * np.cos(a) - y * np.sin(a), x * np.sin(a) + y * np.cos(a)
        h = np.argmax(w)
        if x[h] < 0:
            x = -x
        if y[h] < 0:
            y = -y
        img, _, _ = np.histogram2d(y, x, bins=(edges, edges), weights=w)
        out[j] = img / img.sum() if img.sum() > 0 else img
    return out

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jets", type=int, default=100_000)
    ap.add_argument(
        "--loop-jets", type=int, default=100_000, help="jets given to the per-jet loop (fewer = faster bench)"
    )
    ap.add_argument("--npix", type=int, default=40)
    ap.add_argument(
        "--repeats", type=int, default=3, help="timed calls of jet_images after the first (median reported)"
    )
    a = ap.parse_args()
    base = read_jets_h5(data_dir() / "qcd.h5")
    base = base[ak.num(base.constituents) > 0]
    table = ak.concatenate([base] * (a.jets // len(base) + 1))[: a.jets]
    n_cons = int(ak.sum(ak.num(table.constituents)))
    times = []
    # the first call compiles the kernels (or loads them from numba's cache) and faults in fresh memory
    for _ in range(1 + a.repeats):
        t0 = time.perf_counter()
        vec = jet_images(table, a.npix, show_progress=False)
        times.append(time.perf_counter() - t0)
    t_first, t_vec = times[0], float(np.median(times[1:]))

    sub = table[: a.loop_jets]
    c = sub.constituents
    eta, phi, pt = (ak.to_numpy(ak.flatten(c[k])).astype(np.float64) for k in ("eta", "phi", "pt"))
    offsets = np.r_[0, np.cumsum(ak.to_numpy(ak.num(c)))]
    t0 = time.perf_counter()
    ref = loop_images(eta, phi, pt, offsets, ak.to_numpy(sub.eta), ak.to_numpy(sub.phi), a.npix)
    t_loop = time.perf_counter() - t0
    agree = float(np.mean(np.all(np.isclose(ref, vec[: len(sub), 0], atol=1e-5), axis=(1, 2))))

    rate_vec, rate_loop = len(table) / t_vec, len(sub) / t_loop
    print(
        f"# images_bench: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
        f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}, "
        f"{a.npix}x{a.npix}, {n_cons / len(table):.0f} constituents/jet"
    )
    print("| path | jets | seconds | jets/s |")
    print("|---|---|---|---|")
    print(f"| per-jet numpy loop (original style) | {len(sub):,} | {t_loop:.2f} | {rate_loop:,.0f} |")
    print(
        f"| jet_images, first call (compile/cache load, fresh memory) | {len(table):,} | {t_first:.2f} "
        f"| {len(table) / t_first:,.0f} |"
    )
    print(f"| jet_images, median of {a.repeats} further calls | {len(table):,} | {t_vec:.2f} | {rate_vec:,.0f} |")
    print(f"speed-up: {rate_vec / rate_loop:.0f}x (goal >= 50x); vectorised {rate_vec:,.0f} jets/s (goal >= 100,000); "
          f"images identical to the loop for {agree:.1%} of jets")

if __name__ == "__main__":
    main()
