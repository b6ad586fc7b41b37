"""The main job (`jetad run`): parameter parsing and checks, failure handling, skipping unchanged notebooks, and
an interrupted run (SIGINT) that completes correctly when started again. Uses small throw-away notebooks."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jetad_nb.cli import main
from jetad_nb.core import JetADError
from jetad_nb.core import package_dir
from jetad_nb.run import NotebookFailed
from jetad_nb.run import load_preset
from jetad_nb.run import nbs_dir
from jetad_nb.run import notebook_parameters
from jetad_nb.run import pipeline_notebooks
from jetad_nb.run import preset_names
from jetad_nb.run import read_manifest
from jetad_nb.run import resolve_parameters
from jetad_nb.run import run_pipeline


def _nb(path, params:str, body:str):
    "Write a notebook: a title, a parameters cell and one code cell."
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# test"]},
        {
            "cell_type": "code",
            "metadata": {"tags": ["parameters"]},
            "source": [params],
            "outputs": [],
            "execution_count": None,
        },
        {"cell_type": "code", "metadata": {}, "source": [body], "outputs": [], "execution_count": None},
    ]
    nb = {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "python3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    for i, c in enumerate(cells):
        c["id"] = f"c{i}"
    Path(path).write_text(json.dumps(nb))
    return Path(path)

RESULT_CELL = """
import time
from jetad_nb.evaluate import results_row, append_results
time.sleep(sleep_s)
if fail: raise ValueError("deliberate failure")
append_results(results_row(method, "sig", [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], "test", 0), results_path)
import matplotlib.pyplot as plt
plt.plot([0, 1]); plt.show()
"""

@pytest.fixture
def nbdir(tmp_path):
    d = tmp_path / "nbs"
    d.mkdir()
    for k, m in [("01_first", "A"), ("02_second", "B")]:
        params = (
            f'method = "{m}"   # method name (with a = sign in the comment)\nsleep_s = 0.0  # seconds\n'
            "fail = False  # raise\nresults_path = None  # results\nseeds = [0, 1]  # seeds"
        )
        _nb(d / f"{k}.ipynb", params, RESULT_CELL)
    return d

def test_parameters_parsed_with_types_and_help(nbdir):
    p = notebook_parameters(nbdir / "01_first.ipynb")
    assert p["method"] == {"default": "A", "type": "str", "help": "method name (with a = sign in the comment)"}
    assert p["sleep_s"]["type"] == "float" and p["fail"]["type"] == "bool" and p["seeds"]["type"] == "list"
    assert p["results_path"]["type"] == "path"

def test_parameters_checked_before_running(nbdir):
    nbs = pipeline_notebooks(nbdir)
    assert [n.stem for n in nbs] == ["01_first", "02_second"]
    r = resolve_parameters(nbs, config={"all": {"sleep_s": 1}}, overrides=[("02.fail", True)])
    assert r["01_first"] == {"sleep_s": 1} and r["02_second"] == {"sleep_s": 1, "fail": True}  # an int is a valid float
    for kw, msg in [({"overrides": [("fail", 1)]}, "parameter 'fail' expects bool"),
                    ({"overrides": [("01.sleep_s", "x")]}, "01_first: parameter 'sleep_s' expects float"),
                    ({"overrides": [("seeds", 3)]}, "parameter 'seeds' expects list"),
                    ({"config": {"03": {"a": 1}}}, "unknown notebook '03'"),
                    ({"config": {"all": {"epochz": 1}}}, "'all' sets 'epochz'"),
                    ({"config": {"01_first": {"epochz": 1}}}, "01_first: unknown parameter 'epochz'"),
                    ({"preset": "huge"}, "preset: expected one of")]:
        with pytest.raises(JetADError, match=msg):
            resolve_parameters(nbs, **kw)

def test_failure_names_cell_keeps_partial_and_no_summary(nbdir, tmp_path):
    runs = tmp_path / "runs"
    msg = r"02_second: cell \d+ failed with ValueError: deliberate failure \(partial notebook kept"
    with pytest.raises(NotebookFailed, match=msg) as e:   # its own class, still a JetADError
        run_pipeline("r", runs, notebooks=pipeline_notebooks(nbdir), overrides=[("02.fail", True)], log=lambda s: None)
    out = runs / "r"
    assert isinstance(e.value, JetADError) and e.value.notebook == "02_second"
    assert e.value.partial == out / "02_second.ipynb"
    assert (
        (out / "02_second.ipynb").exists() and not (out / "results.csv").exists() and not (out / "report.html").exists()
    )
    assert list(read_manifest(out)) == ["01_first"]
    st = run_pipeline(
        "r", runs, notebooks=pipeline_notebooks(nbdir), log=lambda s: None
    )  # fixed: 01 is skipped, 02 runs
    assert list(st.status) == ["skipped (unchanged)", "ran"]
    res = pd.read_csv(out / "results.csv")
    assert sorted(res.method) == ["A", "B"] and (out / "report.html").exists()
    html = (out / "report.html").read_text()
    assert (
        "figures/comparison.png" in html
        and "01_first_00.png" in html
        and (out / "figures" / "01_first_00.png").exists()
    )

def test_changed_parameter_or_notebook_reruns(nbdir, tmp_path):
    nbs = pipeline_notebooks(nbdir)
    run_pipeline("r", tmp_path, notebooks=nbs, only=["01"], log=lambda s: None)
    assert list(run_pipeline("r", tmp_path, notebooks=nbs, only=["01"], log=lambda s: None).status) == [
        "skipped (unchanged)"
    ]
    assert list(
        run_pipeline(
            "r", tmp_path, notebooks=nbs, only=["01"], overrides=[("01.method", "C")], log=lambda s: None
        ).status
    ) == ["ran"]
    assert list(pd.read_csv(tmp_path / "r" / "results.csv").method) == ["C"]          # the old rows of 01 are gone
    _nb(
        nbdir / "01_first.ipynb",
        'method = "A"\nsleep_s = 0.0\nfail = False\nresults_path = None\nseeds = [0]',
        RESULT_CELL,
    )
    assert list(run_pipeline("r", tmp_path, notebooks=nbs, only=["01"], log=lambda s: None).status) == ["ran"]

def test_sigint_then_rerun_completes(nbdir, tmp_path):
    runs = tmp_path / "runs"
    cmd = [
        sys.executable,
        "-c",
        "import sys; from jetad_nb.cli import main; sys.exit(main(sys.argv[1:]))",
        "run",
        "--nbs",
        str(nbdir),
        "--runs-dir",
        str(runs),
        "--name",
        "r",
        "-p",
        "02.sleep_s",
        "60",
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "JETAD_PROGRESS": "0"}
    )
    t0 = time.time()
    while "01_first" not in read_manifest(runs / "r") if (runs / "r" / "manifest.json").exists() else True:
        assert time.time() - t0 < 120 and proc.poll() is None, (
            proc.stdout.read() if proc.poll() is not None else "timeout"
        )
        time.sleep(0.3)
    def cell_running():   # papermill saves the partial notebook when a cell starts: wait for 02's sleeping cell
        try:
            cells = json.loads((runs / "r" / "02_second.ipynb").read_text())["cells"]
        except (OSError, ValueError):
            return False
        return cells[-1].get("metadata", {}).get("papermill", {}).get("status") == "running"
    while not cell_running():                                            # (a fixed sleep was flaky on a loaded machine)
        assert time.time() - t0 < 180 and proc.poll() is None, (
            proc.stdout.read() if proc.poll() is not None else "timeout"
        )
        time.sleep(0.3)
    time.sleep(1)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    assert proc.returncode != 0
    out = runs / "r"
    assert not (out / "results.csv").exists() and not (out / "report.html").exists()
    assert list(read_manifest(out)) == ["01_first"]
    r = subprocess.run(cmd[:-3], capture_output=True, text=True, env={**os.environ, "JETAD_PROGRESS": "0"}, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "01_first: unchanged, skipped" in r.stdout and "02_second: done" in r.stdout
    assert sorted(pd.read_csv(out / "results.csv").method) == ["A", "B"] and (out / "report.html").exists()

def test_cli_refuses_bad_parameters_with_exit_2(nbdir, tmp_path, capsys):
    assert main(["run", "--nbs", str(nbdir), "--runs-dir", str(tmp_path), "-p", "fail", "maybe"]) == 2
    assert "parameter 'fail' expects bool" in capsys.readouterr().err
    assert not (tmp_path / "default").exists() or not any((tmp_path / "default").glob("*.ipynb"))
    assert main(["run", "--nbs", str(nbdir), "--list"]) == 0
    assert "sleep_s" in capsys.readouterr().out

def test_cli_failed_notebook_exits_1(nbdir, tmp_path, capsys):
    argv = ["run", "--nbs", str(nbdir), "--runs-dir", str(tmp_path), "--only", "02", "-p", "02.fail", "true"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "jetad: notebook failed: 02_second: cell" in err and "deliberate failure" in err

def test_every_preset_resolves_against_the_notebooks():
    "Each shipped preset names current notebooks and parameters with values of the right types (read as a config)."
    nbs = pipeline_notebooks()
    assert {"production", "tutorial"} <= set(preset_names())
    for name in preset_names():
        resolve_parameters(nbs, config=load_preset(name), data_dir_="/d")   # a config is checked strictly
    r = resolve_parameters(nbs, "production", data_dir_="/d")
    assert r["08_autoencoder"]["epochs"] == 40 and r["11_vrnn"]["qcd_path"] == "/d/qcd_hi.h5"
    with pytest.raises(JetADError, match="preset: expected one of .*, got .huge."):
        load_preset("huge")

def test_presets_ship_in_the_package():
    for name in ("tutorial", "production"):
        assert (package_dir() / "presets" / f"{name}.yaml").is_file()
    assert "recursive-include jetad_nb/presets *.yaml" in (package_dir().parent / "MANIFEST.in").read_text()

def test_nbs_dir_does_not_follow_the_data(monkeypatch, tmp_path):
    before = nbs_dir()
    monkeypatch.setenv("JETAD_DATA", str(tmp_path))
    assert nbs_dir() == before == package_dir().parent / "nbs"

def test_sample_hashes_are_those_of_data():
    "SAMPLE_HASHES (what a wheel's generated samples are checked against) hold the arrays of the checkout's data/."
    from jetad_nb.run import SAMPLE_HASHES
    from jetad_nb.run import SHIPPED_DATA
    from jetad_nb.run import array_hash
    data = package_dir().parent / "data"
    assert sorted(p.name for p in data.glob("*") if p.suffix in (".h5", ".root")) == sorted(SAMPLE_HASHES)
    got = {f: array_hash(data / f) for f in SAMPLE_HASHES}
    assert got == SAMPLE_HASHES, f"data/ changed: put {got} as SAMPLE_HASHES into nbs/16_run.ipynb (or restore data/)"
    assert all((data / f).is_file() for f in SHIPPED_DATA)

def test_wheel_ships_the_notebooks_and_the_data_the_package_expects():
    "setup.py copies the same SHIPPED_DATA into the wheel, and MANIFEST.in puts them into the source archive."
    import ast

    from jetad_nb.run import SHIPPED_DATA
    tree = ast.parse((package_dir().parent / "setup.py").read_text())
    (shipped,) = [ast.literal_eval(n.value) for n in tree.body
                  if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "SHIPPED_DATA"]
    assert tuple(shipped) == SHIPPED_DATA
    manifest = (package_dir().parent / "MANIFEST.in").read_text()
    assert "include nbs/*.ipynb" in manifest and all(f"data/{f}" in manifest for f in SHIPPED_DATA)

def test_report_reads_at_a_glance(tmp_path):
    "The report: chart first, the guide, a sortable table linking each row to its notebook, no absolute folder."
    from jetad_nb.evaluate import results_row
    from jetad_nb.run import write_report
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(300), np.ones(100)]
    res = pd.DataFrame([results_row(m, "top", y, y * 0.5 + rng.random(400), "tutorial", seed=k, notebook=nb)
                        for nb, m in [("08_autoencoder", "AE"), ("15_resonant_search", "CATHODE")] for k in (0, 1)])
    status = pd.DataFrame([{"notebook": n, "status": "ran", "seconds": 2.0, "figures": []}
                           for n in res.notebook.unique()])
    page = write_report(tmp_path, status, res, {"name": "t", "preset": "tutorial", "runs": str(tmp_path)}).read_text()
    i = [page.index(s) for s in ('src="figures/comparison.png"', "How to read it", '<table class="sortable">')]
    assert i == sorted(i)
    assert "test sets of 300 to 300 background and 100 to 100 signal" in page
    assert page.count('<a href="08_autoencoder.ipynb">08_autoencoder</a>') == 3   # 2 result rows + the notebooks table
    assert str(tmp_path) not in page and str(Path.home()) not in page
    assert "addEventListener" in page and "http" not in page.split("<script>")[1]   # inline, no network

def test_production_preset_reads_only_what_make_production_writes():
    "Every {data}/... file of the production preset is an output of `make_production` with the samples read."
    from jetad_nb.generate import PRODUCTION
    production = load_preset("production")
    def paths(v):
        if isinstance(v, str):
            return [v] if v.startswith("{data}/") else []
        if isinstance(v, dict):
            return [p for x in v.values() for p in paths(x)]
        if isinstance(v, (list, tuple)):
            return [p for x in v for p in paths(x)]
        return []
    used = {p[len("{data}/"):] for d in production.values() for v in d.values() for p in paths(v)}
    assert used and used <= set(PRODUCTION), used - set(PRODUCTION)
    nbs = {p.stem: p for p in pipeline_notebooks()}
    defaults = lambda nb: {k: v["default"] for k, v in notebook_parameters(nbs[nb]).items()}
    assert {"qcd", "qcd_mc"} <= {k for f in ("extrap/qcd.h5", "extrap/qcd_mc.h5") for k in PRODUCTION[f]}
    assert defaults("14_extrapolation_physics")["signal"] in PRODUCTION["extrap/hv.h5"]
    d12 = defaults("15_resonant_search") | production["15_resonant_search"]
    assert {d12["background"], d12["signal"], "qcd_loose"} <= set(PRODUCTION["lhco_events.h5"])


def test_notebook_defaults_are_within_their_declared_ranges():
    "Every declared range/choice set parses, and each notebook's own default lies inside it (issue 19's convention)."
    declared = 0
    for nb in pipeline_notebooks():
        for name, spec in notebook_parameters(nb).items():
            if "range" in spec or "choices" in spec:
                declared += 1
                resolve_parameters([nb], config={nb.stem: {name: spec["default"]}})
    assert declared >= 3


def test_papermill_parses_every_parameter():
    "papermill reads the same parameters as `notebook_parameters` (a '=' in a comment makes it drop the line)."
    import json

    from papermill.translators import PythonTranslator

    from jetad_nb.run import nbs_dir
    from jetad_nb.run import notebook_parameters
    from jetad_nb.run import pipeline_notebooks
    for p in pipeline_notebooks(nbs_dir()):
        cell = next(c for c in json.loads(p.read_text())["cells"] if "parameters" in c["metadata"].get("tags", []))
        got = [q.name for q in PythonTranslator.inspect({"source": "".join(cell["source"])})]
        assert got == list(notebook_parameters(p)), p.name


def test_lhco_rd_preset_reads_the_rd_production_with_the_issue_split():
    "The lhco_rd preset reads the R&D-statistics production and splits its SR 55% data, 27% template, 18% test."
    from jetad_nb.generate import PRODUCTION
    p = load_preset("lhco_rd")["15_resonant_search"]
    assert p["data_path"] == "{samples}/lhco_rd_events.h5" and set(PRODUCTION["lhco_rd_events.h5"]) == {"qcd", "wprime"}
    sr = 0.0825 * PRODUCTION["lhco_rd_events.h5"]["qcd"]["events"]   # 8.25% of the generated QCD lands in the SR
    data, ideal, test = (1 - p["frac_ideal"] - p["frac_test"]) * sr, p["frac_ideal"] * sr, p["frac_test"] * sr
    assert data >= 120_000 and ideal >= 60_000 and test >= 40_000, (data, ideal, test)
    rd = PRODUCTION["lhco_rd_events.h5"].values()
    assert all(c["mpi"] is False and c["det"].tau_axes == "onepass_kt" for c in rd)


def test_shipped_rd_events_meet_the_rd_statistics():
    "The shipped lhco_rd_events.h5 holds the SR statistics the issue asks for, with sidebands and W' signal."
    from jetad_nb.core import data_dir
    from jetad_nb.io import read_events_h5
    p = load_preset("lhco_rd")["15_resonant_search"]
    qcd, wp = (read_events_h5(data_dir() / "lhco_rd_events.h5", s) for s in ("qcd", "wprime"))
    mjj = qcd.c[:, 0]
    sr, sb = ((mjj > 3300) & (mjj < 3700)).sum(), ((mjj > 2800) & (mjj < 3300) | (mjj > 3700) & (mjj < 4400)).sum()
    assert sr * (1 - p["frac_ideal"] - p["frac_test"]) >= 120_000 and sr * p["frac_ideal"] >= 60_000, sr
    assert sr * p["frac_test"] >= 40_000 and sb > 2 * sr, (sr, sb)
    assert wp.signal.all() and ((wp.c[:, 0] > 3300) & (wp.c[:, 0] < 3700)).sum() >= 40_000
    assert not qcd.signal.any() and mjj.min() >= 2800 and mjj.max() <= 4400


def test_rd_production_jobs_carry_mpi_off_and_onepass_axes(monkeypatch, tmp_path):
    "The jobs that make_production hands to the cluster switch MPI off in Pythia and use one-pass kT axes."
    import jetad_nb.generate as g
    seen = []
    monkeypatch.setattr(g, "dask_map", lambda fn, jobs, *a, **k: seen.extend(jobs) or [])
    for sample, cfg in g.PRODUCTION["lhco_rd_events.h5"].items():
        g._production_sample(sample, cfg, tmp_path, 1e-5, 1, None, False)
    assert len(seen) == 2 and all(j["det"].tau_axes == "onepass_kt" for j in seen)
    for j in seen:
        options = {k: v for k, v in j.items() if k in ("mpi", "pt_hat_min", "m_hat_min")}
        assert "PartonLevel:MPI = off" in g.pythia_settings(j["process"], j["seed"], **options)


def test_rd_ideal_production_is_the_rd_qcd_with_another_seed(monkeypatch, tmp_path):
    "The extra idealized background: the R&D production's QCD settings (mHat > 2.4 TeV, no upper cut), a new seed."
    import jetad_nb.generate as g
    seen = []
    monkeypatch.setattr(g, "dask_map", lambda fn, jobs, *a, **k: seen.extend(jobs) or [])
    (cfg,) = g.PRODUCTION["lhco_rd_ideal_events.h5"].values()
    rd = g.PRODUCTION["lhco_rd_events.h5"]["qcd"]
    same = lambda c: {k: v for k, v in c.items() if k not in ("seed", "events", "jobs")}
    assert cfg["seed"] != rd["seed"] and same(cfg) == same(rd) and "m_hat_max" not in cfg
    assert cfg["events"] / cfg["jobs"] == rd["events"] / rd["jobs"]   # jobs of the same size
    g._production_sample("qcd", cfg, tmp_path, 1e-5, 1, None, False)
    (j,) = seen
    options = {k: v for k, v in j.items() if k in ("mpi", "pt_hat_min", "m_hat_min", "m_hat_max")}
    s = g.pythia_settings(j["process"], j["seed"], **options)
    assert {"PartonLevel:MPI = off", "PhaseSpace:mHatMin = 2400.0"} <= set(s) and not any("mHatMax" in x for x in s)


def test_shipped_rd_ideal_events_are_sr_background_for_the_template():
    "The shipped extra idealized background: SR events only, no signal, more than doubling the split's 62k template."
    from jetad_nb.core import data_dir
    from jetad_nb.resonant import read_search_events
    bkg, sig = read_search_events(data_dir() / "lhco_rd_ideal_events.h5", signal=None)
    mjj = bkg.c[:, 0]
    assert len(sig) == 0 and not bkg.signal.any() and mjj.min() >= 3300 and mjj.max() <= 3700
    assert len(bkg) > 2 * 0.27 * 230_977, len(bkg)
