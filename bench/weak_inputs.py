"""Issue 16: does the MLP's input representation cost it against the trees (which ignore monotone maps)?

    OMP_NUM_THREADS=1 python bench/weak_inputs.py logit,gauss,standard 0,1,2,3 out.jsonl [0.006]

S/B 0.6% by default, the bench's idealized split; MLP ensembles of 5 on (logit: the flows' logit-scaled features),
(standard: physical units, `Preprocess.physical`, which the MLP standardises itself: the package's default since
this study), (gauss: rank-Gaussianised with a QuantileTransformer fit on template + data).
The trees (HGB) run once per seed, on the logit inputs (a monotone map does not change them)."""
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.preprocessing import QuantileTransformer

sys.path.insert(0, str(Path(__file__).parent))
from weak_bench import SB  # noqa: E402  (the bench's own split)
from weak_bench import SR  # noqa: E402
from weak_bench import idealized_split  # noqa: E402

from jetad_nb.core import data_dir
from jetad_nb.io import Events
from jetad_nb.io import read_events_h5
from jetad_nb.resonant import Preprocess
from jetad_nb.weak import anomaly_scores
from jetad_nb.weak import sic_summary


def remap(evs, how, pre):
    "The split's events with the features rank-Gaussianised ('gauss'); the other rows keep them as they are."
    if how != "gauss":
        return evs
    raw = [pre.physical(e.x) for e in evs]
    t = QuantileTransformer(output_distribution="normal", n_quantiles=2000, subsample=10**9, random_state=0)
    t.fit(np.r_[raw[0], raw[1]])
    return [Events(e.c, t.transform(r), e.signal) for e, r in zip(evs, raw)]


if __name__ == "__main__":
    hows, seeds, out = sys.argv[1].split(","), [int(s) for s in sys.argv[2].split(",")], sys.argv[3]
    sb = float(sys.argv[4]) if len(sys.argv) > 4 else 0.006
    torch.set_num_threads(1)
    E = data_dir() / "lhco_rd_events.h5"   # the shipped R&D-statistics window
    bkg, sig = read_events_h5(E, "qcd"), read_events_h5(E, "wprime")
    pre = Preprocess.fit(bkg, SR, SB)
    with open(out, "a") as f:
        for seed in seeds:
            split = idealized_split(bkg, sig, sb, seed)
            for how in hows:
                ideal, data_sr, test = remap(split, how, pre)
                for clf in (["nn", "hgb"] if how == "logit" else ["nn"]):
                    t0 = time.perf_counter()
                    s = anomaly_scores(ideal, None, data_sr, test, 5, seed=seed, device="cpu", classifier=clf,
                                       inputs=pre.physical if how == "standard" else None)
                    r = sic_summary(test.signal.astype(int), s)
                    row = dict(how=how, clf=clf, sb=sb, seed=seed, max_sic=r["max_sic"], auc=r["auc"],
                               seconds=time.perf_counter() - t0)
                    print(json.dumps(row), file=f, flush=True)
