"""MLP ensemble against gradient-boosted trees in the weak regime, on identical splits (issue 16).

The idealized anomaly detector of the resonant search (SR data with injected signal against a true SR background
template, features only) is trained with `weak.anomaly_scores(classifier='nn')` and `classifier='hgb'` on the same
split, for each S/B and seed; the table gives the median max SIC with its 16-84% range over seeds, the ratio
MLP / HGB (of the medians, and the median of the per-seed ratios: both see the same injected signal and test set)
and the time of each ensemble. `--old` adds the recipe before issue 16 (early stopping on a 20% validation split,
patience 5, batch 256, lr 1e-3, the best state alone) on the same splits. `--noise` repeats one S/B with k Gaussian
noise features appended. The classifiers see the features in physical units (`Preprocess.physical`; the MLP
standardises them), as the resonant search does by default; `--inputs scaled` gives them the flows' logit-scaled
features (the default before issue 16's fix). `--epochs` and `--average-last` change the MLP recipe.

    python bench/weak_bench.py --events /path/to/lhco_events.h5 --sb 0.003,0.006,0.01 --seeds 0,1,2,3,4
"""

import argparse
import time

import numpy as np
import pandas as pd
import torch

from jetad_nb.core import data_dir
from jetad_nb.io import Events
from jetad_nb.io import read_events_h5
from jetad_nb.resonant import Preprocess
from jetad_nb.resonant import regions
from jetad_nb.resonant import split_background
from jetad_nb.weak import add_noise_features
from jetad_nb.weak import anomaly_scores
from jetad_nb.weak import inject
from jetad_nb.weak import sic_summary
from jetad_nb.weak import split_signal
from jetad_nb.weak import x_only

SR, SB = (3300.0, 3700.0), (2800.0, 4400.0)


def idealized_split(bkg, sig, s_over_b, seed, sr=SR, sb=SB):
    "Template (true SR background), SR data with injected signal and the SR test set, features only (scaled)."
    pre = Preprocess.fit(bkg, sr, sb)
    edges_sr, edges_sb = pre.edges("sr"), pre.edges("sb")
    sp = split_signal(pre(sig))
    parts = split_background(pre(bkg), edges_sr, 0.25, 0.25, seed=seed)
    data = inject(parts["data"], sp["pool"], s_over_b, [edges_sr[0]], seed=seed, sr_upper=[edges_sr[1]])
    data_sr = regions(data, edges_sr, edges_sb)[0]
    ideal = regions(parts["ideal"], edges_sr, edges_sb)[0]
    test = regions(Events.concat(parts["test"], sp["test"]), edges_sr, edges_sb)[0]
    return x_only(ideal), x_only(data_sr), x_only(test)


OLD_RECIPE = dict(val_frac=0.2, epochs=50, batch_size=256, lr=1e-3, patience=5, average_last=1)  # before issue 16


def one_point(ideal, data_sr, test, classifier, seed, n_ensemble, inputs=None, nn_kwargs=None):
    "Max SIC and seconds of one ensemble ('old': the MLP with `OLD_RECIPE`)."
    t0 = time.perf_counter()
    kw = OLD_RECIPE if classifier == "old" else (nn_kwargs or {})
    s = anomaly_scores(ideal, None, data_sr, test, n_ensemble, seed=seed, inputs=inputs,
                       classifier="nn" if classifier == "old" else classifier, device="cpu", **kw)
    return sic_summary(test.signal.astype(int), s)["max_sic"], time.perf_counter() - t0


def summary(rows, by):
    "Median and 16-84% of max SIC and mean time per group, MLP next to HGB."
    q = lambda v: f"{np.median(v):.2f} [{np.quantile(v, 0.16):.2f}, {np.quantile(v, 0.84):.2f}]"
    out = []
    for key, g in pd.DataFrame(rows).groupby(by):
        nn, hgb, old = (g[g.classifier == c].set_index("seed") for c in ("nn", "hgb", "old"))
        row = {by: key, "S in SR": int(g.n_signal.median()), "SR data": int(g.n_data.median()),
               "MLP max SIC": q(nn.max_sic), "HGB max SIC": q(hgb.max_sic),
               "MLP / HGB (medians)": round(np.median(nn.max_sic) / np.median(hgb.max_sic), 2),
               "MLP / HGB (per seed)": round(np.median(nn.max_sic / hgb.max_sic), 2),
               "MLP s": round(nn.seconds.mean(), 1), "HGB s": round(hgb.seconds.mean(), 1),
               "time MLP / HGB": round(nn.seconds.mean() / hgb.seconds.mean(), 1)}
        if len(old):
            row |= {"old MLP max SIC": q(old.max_sic),
                    "old / HGB (per seed)": round(np.median(old.max_sic / hgb.max_sic), 2)}
        out.append(row)
    return pd.DataFrame(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", default=str(data_dir() / "lhco_events.h5"), help="resonant events file (qcd, wprime)")
    p.add_argument("--sb", default="0.003,0.006,0.01", help="S/B values in the SR")
    p.add_argument("--seeds", default="0,1,2,3,4", help="seeds (split, injection, ensembles)")
    p.add_argument("--n-ensemble", type=int, default=5, help="members per ensemble")
    p.add_argument("--noise", default="", help="noise-feature counts k for the robustness check (e.g. 0,5,10)")
    p.add_argument("--noise-sb", type=float, default=0.01, help="S/B of the robustness check")
    p.add_argument("--old", action="store_true", help="also the MLP recipe before issue 16 (OLD_RECIPE)")
    p.add_argument("--inputs", default="physical", choices=["physical", "scaled"],
                   help="classifier inputs: physical units (Preprocess.physical) or the logit-scaled features")
    p.add_argument("--epochs", type=int, default=None, help="MLP epochs (default: train_classifier's)")
    p.add_argument("--average-last", type=int, default=None, help="MLP states averaged (default: train_classifier's)")
    p.add_argument("--csv", default="", help="also write the per-point rows here (runs on several cores: one seed set "
                   "each, then `summary(pd.concat(...), 's_over_b')`)")
    a = p.parse_args()
    torch.set_num_threads(1)
    bkg, sig = read_events_h5(a.events, "qcd"), read_events_h5(a.events, "wprime")
    seeds = [int(s) for s in a.seeds.split(",")]
    inputs = Preprocess.fit(bkg, SR, SB).physical if a.inputs == "physical" else None   # idealized_split's scaling
    nn_kw = {k: v for k, v in (("epochs", a.epochs), ("average_last", a.average_last)) if v is not None}
    rows = []
    for sb in [float(x) for x in a.sb.split(",")]:
        for seed in seeds:
            ideal, data_sr, test = idealized_split(bkg, sig, sb, seed)
            for clf in ("nn", "hgb") + (("old",) if a.old else ()):
                m, sec = one_point(ideal, data_sr, test, clf, seed, a.n_ensemble, inputs, nn_kw)
                rows.append(dict(s_over_b=sb, seed=seed, classifier=clf, max_sic=m, seconds=sec,
                                 n_signal=int(data_sr.signal.sum()), n_data=len(data_sr)))
                if a.csv:   # after every point, so a long run that stops early keeps what it measured
                    pd.DataFrame(rows).to_csv(a.csv, index=False)
    print(f"events: {a.events}; idealized AD, {a.n_ensemble} members per ensemble, seeds {a.seeds}; "
          f"inputs {a.inputs}; MLP {nn_kw or 'defaults'}")
    print(summary(rows, "s_over_b").to_string(index=False))
    if a.noise:
        rows = []
        for seed in seeds:
            ideal, data_sr, test = idealized_split(bkg, sig, a.noise_sb, seed)
            for k in [int(x) for x in a.noise.split(",")]:
                noisy = [add_noise_features(e, k, seed=100 * seed + j) for j, e in enumerate((ideal, data_sr, test))]
                for clf in ("nn", "hgb"):
                    m, sec = one_point(*noisy, clf, seed, a.n_ensemble, inputs, nn_kw)
                    rows.append(dict(noise_features=k, seed=seed, classifier=clf, max_sic=m, seconds=sec,
                                     n_signal=int(data_sr.signal.sum()), n_data=len(data_sr)))
                    if a.csv:   # the robustness rows go next to the main ones, in their own file
                        pd.DataFrame(rows).to_csv(a.csv.replace(".csv", "_noise.csv"), index=False)
        print(f"\nrobustness: k Gaussian noise features appended, S/B {a.noise_sb}")
        print(summary(rows, "noise_features").to_string(index=False))


if __name__ == "__main__":
    main()
