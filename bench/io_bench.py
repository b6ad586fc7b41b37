"""I/O benchmark: Delphes-format ROOT -> jet table -> HDF5, against a raw uproot read of the same branches.

Writes a Delphes-format file (jetad_nb.io.write_delphes) with realistic multiplicities: per event 2-4 fat jets
and about 400 energy-flow objects (tracks with impact parameters, photons, neutral hadrons) spread around
the jet axes. Two copies: one with stored constituent links (as jetad-nb's generator writes), one without
(as real Delphes files, matched by Delta R). Prints one table; best of --repeat runs per row.

    python bench/io_bench.py [--events 20000] [--repeat 3]
"""
import argparse
import os
import tempfile
import time
from pathlib import Path

import awkward as ak
import numpy as np
import uproot

os.environ.setdefault("JETAD_PROGRESS", "0")
from jetad_nb import io
from jetad_nb.kinematics import delta_phi


def synthetic_events(n, seed=0):
    "Per-event collections in the Delphes layout: fat jets with their EFlow constituents and explicit links."
    rng = np.random.default_rng(seed)
    n_jet = rng.integers(2, 5, n)
    jet_ev = np.repeat(np.arange(n), n_jet)
    j_eta, j_phi = rng.uniform(-2, 2, len(jet_ev)), rng.uniform(-np.pi, np.pi, len(jet_ev))
    cols, link_jet = {}, []
    per_kind = {"EFlowTrack": 50, "EFlowPhoton": 30, "EFlowNeutralHadron": 20}   # per jet, Poisson means
    offset = np.zeros(n, dtype=np.int64)
    for kind, mean in per_kind.items():
        m = rng.poisson(mean, len(jet_ev))                       # constituents per jet
        jet_of = np.repeat(np.arange(len(jet_ev)), m)
        k = len(jet_of)
        eta = j_eta[jet_of] + rng.normal(0, 0.25, k)
        phi = j_phi[jet_of] + rng.normal(0, 0.25, k)
        pt = rng.exponential(8.0, k) + 0.5
        order = np.argsort(jet_ev[jet_of], kind="stable")     # group by event
        jet_of, eta, phi, pt = jet_of[order], eta[order], delta_phi(phi[order], 0), pt[order]
        n_ev = np.bincount(jet_ev[jet_of], minlength=n)
        local = np.arange(k) - np.repeat(np.cumsum(n_ev) - n_ev, n_ev)
        link_jet.append(
            (jet_ev[jet_of], jet_of - (np.cumsum(n_jet) - n_jet)[jet_ev[jet_of]], local + offset[jet_ev[jet_of]])
        )
        offset += n_ev
        if kind == "EFlowTrack":
            rec = {
                "PT": pt,
                "Eta": eta,
                "Phi": phi,
                "Charge": rng.choice([-1, 1], k).astype(np.int32),
                "PID": np.full(k, 211, np.int32),
                "D0": rng.normal(0, 0.05, k),
                "DZ": rng.normal(0, 0.08, k),
                "ErrorD0": np.full(k, 0.02),
                "ErrorDZ": np.full(k, 0.03),
            }
        else:
            rec = {"ET": pt, "Eta": eta, "Phi": phi, "E": pt * np.cosh(eta)}
        cols[kind] = ak.unflatten(
            ak.zip({a: np.asarray(b, np.float32) if b.dtype.kind == "f" else b for a, b in rec.items()}), n_ev
        )
    ev = np.concatenate([l[0] for l in link_jet])
    lj = np.concatenate([l[1] for l in link_jet])
    li = np.concatenate([l[2] for l in link_jet])
    o = np.lexsort((li, ev))
    cols["FatJetConstituent"] = ak.unflatten(
        ak.zip({"Jet": lj[o].astype(np.int32), "Index": li[o].astype(np.int32)}), np.bincount(ev, minlength=n)
    )
    pt = rng.uniform(200, 1200, len(jet_ev)).astype(np.float32)
    fat = {
        "PT": pt,
        "Eta": j_eta.astype(np.float32),
        "Phi": j_phi.astype(np.float32),
        "Mass": rng.uniform(10, 250, len(jet_ev)).astype(np.float32),
        **{f"Tau{i}": rng.uniform(0, 0.5 / i, len(jet_ev)).astype(np.float32) for i in range(1, 6)},
    }
    cols["FatJet"] = ak.unflatten(ak.zip(fat), n_jet)
    cols["MissingET"] = ak.unflatten(
        ak.zip({"MET": rng.exponential(50, n).astype(np.float32), "Phi": rng.uniform(-3, 3, n).astype(np.float32)}),
        np.ones(n, int),
    )
    return cols

def best(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--compression", default="zstd", help="the file's codec: zstd (the writer's default), lz4, zlib")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        chunk = 5000
        gen = [synthetic_events(min(chunk, a.events - s), seed=s) for s in range(0, a.events, chunk)]
        linked = io.write_delphes(d / "linked.root", gen, compression=a.compression)
        bare = io.write_delphes(
            d / "bare.root", [{k: v for k, v in g.items() if k != "FatJetConstituent"} for g in gen],
            compression=a.compression,
        )
        rows = []
        for name, f in (("with stored links", linked), ("Delta R matching", bare)):
            mb = f.stat().st_size / 1e6
            tree = uproot.open(f)["Delphes"]
            branches = io._delphes_branches(tree, "FatJet", ["EFlowTrack", "EFlowPhoton", "EFlowNeutralHadron"], f)
            want = set(branches)
            t_raw, raw = best(lambda: uproot.open(f)["Delphes"].arrays(filter_name=lambda n: n in want), a.repeat)
            n_jets = int(ak.sum(ak.num(raw["FatJet.PT"])))
            t_read, table = best(lambda: io.read_delphes(f, min_pt=0), a.repeat)
            t_h5, _ = best(lambda: io.write_jets_h5(table, d / "cache.h5"), a.repeat)
            t_back, _ = best(lambda: io.read_jets_h5(d / "cache.h5"), a.repeat)
            assert len(table) == n_jets
            full = t_read + t_h5
            rows += [(name, "raw uproot read (same branches)", t_raw, n_jets, mb, 1.0),
                     (name, "read_delphes -> jet table", t_read, n_jets, mb, t_raw / t_read),
                     (name, "ROOT -> jet table -> HDF5", full, n_jets, mb, t_raw / full),
                     (name, "HDF5 cache -> jet table", t_back, n_jets, mb, t_raw / t_back)]
    print(f"\nio_bench: {a.events} events, {n_jets} fat jets, {mb:.1f} MB ROOT file, best of {a.repeat}, 1 process")
    print(f"{'file':<18} {'stage':<34} {'seconds':>8} {'jets/s':>10} {'MB/s':>8} {'rate / raw':>10}")
    for r in rows:
        print(f"{r[0]:<18} {r[1]:<34} {r[2]:8.3f} {r[3] / r[2]:10.0f} {r[4] / r[2]:8.1f} {r[5]:10.2f}")
    print("goal: ROOT -> jet table -> HDF5 rate / raw uproot rate >= 0.5")

if __name__ == "__main__":
    main()
