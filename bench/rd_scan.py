"""The resonant injection scan at the LHC Olympics R&D statistics (issue 17, item 5), point by point.

The settings are those of the `lhco_rd` preset of `15_resonant_search` (read from the preset, not copied): the
shipped `data/lhco_rd_events.h5`, SR 3.3-3.7 TeV, SB 2.8-4.4 TeV, the SR background split 55% data / 27% idealized
template / 18% test, flows of 4 MAF layers x 128-128 (at most 100 epochs, batch 256, early stopping), ensembles of
5, oversampling 4, CWoLa hunting's sidebands 3.1-3.3 and 3.7-3.9 TeV (the original's SR +- 200 GeV), and the MLP
and the boosted trees side by side on the same flow (`classifier=["nn", "hgb"]`).
Unlike `jetad run --preset lhco_rd --only 15`, it runs only the scan (no walkthrough flow, no noise check), and it
appends each (S/B, seed) point's rows to the CSV as soon as the point is done, so several processes (one core
each) can share a scan and an interrupted scan keeps its finished points. `--ideal FILE` adds the SR events of an
extra background (PRODUCTION's `lhco_rd_ideal_events.h5`: the same generator settings, another seed) to the
idealized template, leaving the data and test sets as they are; its rows record the file's `array_hash` in
`ideal_hash`. The classifiers see the features in physical units (the notebook's default `clf_inputs`;
`--inputs scaled`: the flows' logit-scaled features, as before issue 16's fix); each row says which in `clf_inputs`:

    OMP_NUM_THREADS=1 python bench/rd_scan.py --sb 0.006 --seeds 0,1 --csv rd_scan.csv
    python bench/rd_scan.py --summary rd_scan.csv

The summary prints max SIC per method and classifier (median [16%, 84%] over seeds) next to the CATHODE paper's
numbers at S/B = 0.6% (arXiv:2109.00546 at the full R&D statistics, S/B 0.64%, as issue 16 quotes them).
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from jetad_nb.core import data_dir
from jetad_nb.resonant import CATHODE_PAPER_SIC
from jetad_nb.resonant import Preprocess
from jetad_nb.resonant import read_search_events
from jetad_nb.resonant import resonant_scan
from jetad_nb.run import array_hash
from jetad_nb.run import load_preset
from jetad_nb.run import nbs_dir
from jetad_nb.run import notebook_parameters
from jetad_nb.weak import training_kwargs


def settings():
    "The lhco_rd preset's parameters of 15_resonant_search over the notebook's own defaults (read, not copied)."
    defaults = notebook_parameters(nbs_dir() / "15_resonant_search.ipynb")
    return {k: v["default"] for k, v in defaults.items()} | load_preset("lhco_rd")["15_resonant_search"]


def append_rows(res, csv):
    "Append rows to the CSV; a column the file lacks is added (its old rows get NaN there)."
    if Path(csv).exists():
        old = pd.read_csv(csv)
        if set(res.columns) - set(old.columns):
            return pd.concat([old, res], ignore_index=True).to_csv(csv, index=False)
        res = res.reindex(columns=old.columns)
    res.to_csv(csv, mode="a", header=not Path(csv).exists(), index=False)


def run(sb_values, seeds, csv, events, methods, cwola_sb, ideal_path="", inputs="physical", classifiers=("nn", "hgb")):
    "Run the points one by one; append each point's rows (with CWoLa's SB edges in GeV) to the CSV."
    p = settings()
    bkg, sig = read_search_events(events, None, "qcd", "wprime")
    pre = Preprocess.fit(bkg, p["sr"], p["sb"])
    ideal = pre(read_search_events(ideal_path, None, "qcd", None)[0]) if ideal_path else None
    ideal_hash = array_hash(ideal_path) if ideal_path else ""
    cw = tuple(pre.cs(np.array([[cwola_sb[0]], [cwola_sb[1]]], float))[:, 0])
    training = training_kwargs(p["clf_epochs"], p["flow_epochs"], p["batch_size"], "cpu", p["flow_hidden"],
                               p["flow_transforms"], classifier="nn")
    training["inputs"] = pre.physical if inputs == "physical" else None
    for s_over_b in sb_values:
        for seed in seeds:
            t0 = time.perf_counter()
            res, _ = resonant_scan(pre(bkg), pre(sig), pre.edges("sr"), pre.edges("sb"), [s_over_b], [seed],
                                   p["frac_ideal"], p["frac_test"], cwola_sb=cw, methods=methods,
                                   n_ensemble=p["n_ensemble"],
                                   oversample=p["oversample"], show_progress=False, ideal=ideal, ideal_join=True,
                                   **(training | {"classifier": list(classifiers)}))
            res["method"] = [m if "(" in m else f"{m} ({c})" for m, c in zip(res.method, res.classifier)]
            if ideal_path:   # rows of the methods whose background is the template, with the extra one joined
                res["method"] = res.method.str.replace(r"^(idealized|supervised)", r"\1+extra", regex=True)
            append_rows(res.assign(cwola_sb=f"{cwola_sb[0]:.0f}-{cwola_sb[1]:.0f}", clf_inputs=inputs,
                               clf_epochs=p["clf_epochs"], ideal_hash=ideal_hash), csv)
            print(f"S/B {s_over_b}, seed {seed}: {time.perf_counter() - t0:.0f} s", flush=True)


def summary(csv):
    "Max SIC per method and classifier (median [16%, 84%] over seeds) for each S/B, and the paper's at 0.6%."
    d = pd.read_csv(csv)
    q = lambda v: f"{np.median(v):.1f} [{np.quantile(v, 0.16):.1f}, {np.quantile(v, 0.84):.1f}] ({len(v)})"
    d["method"] = [m.replace("cwola", f"cwola {e}") for m, e in zip(d.method, d.get("cwola_sb", [""] * len(d)))]
    inp = d.get("clf_inputs", pd.Series(["scaled"] * len(d))).fillna("scaled")   # rows before the column: scaled
    d["method"] = [m + (", physical inputs" if i == "physical" else "") for m, i in zip(d.method, inp)]
    extra = d.get("ideal_hash", pd.Series([""] * len(d))).fillna("")   # which extra template joined the idealized
    d["method"] = [m + (f", template {h}" if h else "") for m, h in zip(d.method, extra)]
    t = d.groupby(["method", "s_over_b"]).max_sic.apply(q).unstack()
    t["paper at 0.64%"] = [CATHODE_PAPER_SIC.get(m.split(" ")[0], np.nan) for m in t.index]
    print(t.to_string())
    print("\nseconds per point and method (mean):")
    print(d.groupby("method").seconds.mean().round(0).to_string())


def main():
    a = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    a.add_argument("--sb", default="0.006", help="S/B values in the SR")
    a.add_argument("--seeds", default="0", help="seeds")
    a.add_argument("--csv", default="rd_scan.csv", help="rows are appended here")
    a.add_argument("--events", default=str(data_dir() / "lhco_rd_events.h5"), help="the R&D-statistics events cache")
    a.add_argument("--methods", default="", help="comma-separated subset of the methods (default: the preset's)")
    a.add_argument("--cwola-sb", default="", help="CWoLa hunting's SB edges in GeV, e.g. 2800,4400 (default: the "
                   "preset's cwola_sb, the original's SR +- 200 GeV)")
    a.add_argument("--ideal", default="", help="an events cache of extra background whose SR events join the "
                   "idealized template (e.g. PRODUCTION's lhco_rd_ideal_events.h5); the data stay the same")
    a.add_argument("--inputs", default="", choices=["", "physical", "scaled"], help="classifier inputs (default: "
                   "the notebook's clf_inputs, physical units; 'scaled': the flows' logit-scaled features)")
    a.add_argument("--classifiers", default="nn,hgb", help="nn, hgb or both (comma-separated)")
    a.add_argument("--summary", default="", help="only print the summary of this CSV")
    args = a.parse_args()
    if args.summary:
        return summary(args.summary)
    torch.set_num_threads(1)
    p = settings()
    methods = args.methods.split(",") if args.methods else p["methods"]
    cwola_sb = [float(x) for x in args.cwola_sb.split(",")] if args.cwola_sb else p["cwola_sb"]
    run([float(x) for x in args.sb.split(",")], [int(s) for s in args.seeds.split(",")], args.csv, args.events,
        methods, cwola_sb, args.ideal, args.inputs or p["clf_inputs"], args.classifiers.split(","))


if __name__ == "__main__":
    main()
