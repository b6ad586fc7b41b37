"""The bad-input suite (issue 19): every reader, writer, the CLI and `fit` against damaged, malicious and out-of-range
input. Every case ends in a one-line `JetADError` (CLI: exit code 2, one line, no traceback), or, where a damaged file
still reads, in exactly the result of the intact file: never a traceback, never code run, never a silent wrong result.
"""
import contextlib
import io as _io
import os
import subprocess
import sys
import warnings
from pathlib import Path

import awkward as ak
import h5py
import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from jetad_nb import io
from jetad_nb.cli import main
from jetad_nb.core import JetADError
from jetad_nb.core import data_dir
from jetad_nb.run import resolve_parameters
from jetad_nb.train import fit
from jetad_nb.train import load_best

MARKER = Path(os.environ.get("TMPDIR", "/tmp")) / f"jetad-exploit-ran-{os.getpid()}"


class Exploit:
    "Unpickling this runs code: it creates the marker file."
    def __reduce__(self):
        return (os.system, (f"touch {MARKER}",))


class Line(nn.Module):
    "The smallest model `fit` trains: y = w x + b."
    def __init__(self):
        super().__init__()
        self.w = nn.Linear(1, 1)

    def loss(self, x, y):
        return (self.w(x)[:, 0] - y) ** 2


def _xy(n=64, seed=0):
    x = torch.as_tensor(np.random.default_rng(seed).normal(size=(n, 1)), dtype=torch.float32)
    return x, 2 * x[:, 0] + 1


def refused(fn, *args, **kwargs):
    "Assert fn raises a one-line JetADError; return its message."
    with pytest.raises(JetADError) as e:
        fn(*args, **kwargs)
    assert "\n" not in str(e.value), str(e.value)
    return str(e.value)


def refused_or_same(fn, reference, same):
    "A damaged input is refused in one line, or (damage in unused bytes) gives exactly the intact file's result."
    try:
        out = fn()
    except JetADError as e:
        assert "\n" not in str(e), str(e)
        return
    assert same(out, reference), "silent wrong result"


def cli(argv):
    "Run `jetad` in this process; (exit code, stdout, stderr)."
    out, err = _io.StringIO(), _io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def cli_refused(argv):
    "The CLI exits with 2 and one line on stderr, no traceback."
    code, _, err = cli(argv)
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("jetad: error: ") and "Traceback" not in err, err
    return err


def _tables_equal(a, b):
    return len(a) == len(b) and ak.to_list(a.pt) == ak.to_list(b.pt) and \
        ak.to_list(ak.num(a.constituents)) == ak.to_list(ak.num(b.constituents))


def _events_equal(a, b):
    return all(np.array_equal(getattr(a, k), getattr(b, k), equal_nan=True) for k in ("c", "x", "signal"))


def _lhco_frame(n=6, particles=3, label=True):
    "A small LHC Olympics particle table: two hard particles per event (a dijet), padded with zeros."
    rng = np.random.default_rng(1)
    a = np.zeros((n, 3 * particles + label))
    a[:, 0:3] = np.c_[rng.uniform(300, 500, n), rng.uniform(-1, 1, n), rng.uniform(-3, 3, n)]
    a[:, 3:6] = np.c_[rng.uniform(300, 500, n), rng.uniform(-1, 1, n), a[:, 2] + np.pi]
    if label:
        a[:, -1] = np.arange(n) % 2
    return pd.DataFrame(a)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    "One small intact file of every format the package reads, with how to read it and what it gives."
    d = tmp_path_factory.mktemp("intact")
    _lhco_frame().to_hdf(d / "lhco.h5", key="df", format="fixed")
    _lhco_frame().to_hdf(d / "lhco_blosc.h5", key="df", format="fixed", complevel=5, complib="blosc")
    _lhco_frame(label=False).to_hdf(d / "blackbox.h5", key="df", format="fixed")
    io.write_jets_h5(io.toy_jets(), d / "cache.h5")
    ev = io.Events(np.ones((5, 1)), np.arange(10.0).reshape(5, 2), np.arange(5) % 2 == 0)
    io.write_events_h5(d / "events.h5", {"a": ev}, context=["m"])
    c = np.zeros((4, 2, 3, 4))
    c[:, 0, 0] = [300.0, 0.1, 0.2, 30.0]
    c[:, 0, 1:] = [200.0, 0.1, 0.2, 0.0]
    with h5py.File(d / "vrnn.h5", "w") as f:
        f["constituents"], f["hlvs"] = c, np.ones((4, 2, 10))
    np.save(d / "cathode.npy", np.c_[np.full(4, 3.5), np.full((4, 2), 0.5), np.full((4, 2), 0.3), np.arange(4) % 2])
    feats = {f"{v}j{k}": np.linspace(100, 200, 4) for k in (1, 2) for v in ("px", "py", "pz", "m", "tau1", "tau2")}
    pd.DataFrame({**feats, "label": np.arange(4.0) % 2}).to_hdf(d / "features.h5", key="df", format="fixed")
    torch.manual_seed(0)
    fit(Line(), _xy(), _xy(32, 1), epochs=2, checkpoint=d / "ck.pt", show_progress=False, device="cpu")
    readers = {
        "lhco.h5": lambda p: io.read_lhco(p, show_progress=False),
        "lhco_blosc.h5": lambda p: io.read_lhco(p, show_progress=False),
        "blackbox.h5": lambda p: io.read_lhco(p, show_progress=False),
        "cache.h5": io.read_jets_h5,
        "events.h5": lambda p: io.read_events_h5(p, "a"),
        "vrnn.h5": io.read_vrnn,
        "cathode.npy": io.read_cathode_arrays,
        "features.h5": io.read_lhco_features,
        "ck.pt": lambda p: load_best(Line(), p).w.weight.item(),
        "qcd.root": lambda p: io.read_delphes(p, show_progress=False),
    }
    same = {"events.h5": _events_equal, "cathode.npy": _events_equal, "features.h5": _events_equal,
            "ck.pt": lambda a, b: a == b}
    paths = {k: (data_dir() / k if k == "qcd.root" else d / k) for k in readers}
    refs = {k: readers[k](paths[k]) for k in readers}
    return {k: (paths[k], readers[k], refs[k], same.get(k, _tables_equal)) for k in readers}


FORMATS = ["lhco.h5", "lhco_blosc.h5", "blackbox.h5", "cache.h5", "events.h5", "vrnn.h5", "cathode.npy",
           "features.h5", "ck.pt", "qcd.root"]
CUTS = [0.0, 0.05, 0.3, 0.6, 0.9, 0.999]


@pytest.mark.parametrize("cut", CUTS)
@pytest.mark.parametrize("name", FORMATS)
def test_truncated_file(files, tmp_path, name, cut):
    src, read, ref, same = files[name]
    data = src.read_bytes()
    p = tmp_path / name
    p.write_bytes(data[:int(len(data) * cut)])
    refused_or_same(lambda: read(p), ref, same)


NO_CHECKSUM = ("lhco.h5", "blackbox.h5", "vrnn.h5", "features.h5", "cathode.npy")   # third-party, uncompressed


@pytest.mark.parametrize("where", [0.02, 0.25, 0.5, 0.75, 0.97])
@pytest.mark.parametrize("name", FORMATS)
def test_zeroed_block(files, tmp_path, name, where):
    """Zeroed bytes: refused in one line or read as the intact file. The formats of other tools that have neither
    checksums nor compression (NO_CHECKSUM) cannot tell zeroed numbers from real zeros: there a read that succeeds
    must give no more jets or events than the intact file (zeroed slots read as empty), all a reader can check."""
    src, read, ref, same = files[name]
    data = bytearray(src.read_bytes())
    a = int(len(data) * where)
    data[a:a + 512] = bytes(len(data[a:a + 512]))
    p = tmp_path / name
    p.write_bytes(bytes(data))
    shape = lambda a, b: len(a) <= len(b)  # noqa: E731  (zeroed slots read as absent particles or jets)
    refused_or_same(lambda: read(p), ref, shape if name in NO_CHECKSUM else same)


@pytest.mark.parametrize("cut", [0.0, 0.3, 0.9])
@pytest.mark.parametrize("name", ["lhco.h5", "cache.h5", "events.h5", "vrnn.h5", "features.h5", "qcd.root"])
def test_cli_info_on_truncated_file(files, tmp_path, name, cut):
    data = files[name][0].read_bytes()
    p = tmp_path / name
    p.write_bytes(data[:int(len(data) * cut)])
    code, _, err = cli(["info", str(p)])
    assert code in (0, 2) and "Traceback" not in err and err.count("\n") <= 1, err


# --- the two exploits: nothing read may run code -------------------------------------------------------------------

@pytest.fixture
def malicious_h5(tmp_path):
    "An LHCO-looking pandas fixed-format file whose object column unpickles to `touch MARKER`."
    MARKER.unlink(missing_ok=True)
    df = _lhco_frame()
    df["payload"] = [Exploit()] * len(df)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df.to_hdf(tmp_path / "evil.h5", key="df", format="fixed")
    yield tmp_path / "evil.h5"
    assert not MARKER.exists(), "reading the file ran its code"


@pytest.mark.parametrize("how", ["read_lhco", "read_lhco_features", "lhco_layout", "read_jets", "detect_format"])
def test_object_column_runs_no_code(malicious_h5, how):
    fn = getattr(io, how)
    if how == "detect_format":
        assert fn(malicious_h5) == "lhco"   # identifying the file reads no column
        return
    assert "refused unread" in refused(fn, malicious_h5)


@pytest.mark.parametrize("argv", [["info"], ["convert", "out.h5"], ["samples", "--no-shared", "--name", "s"]])
def test_object_column_runs_no_code_cli(malicious_h5, tmp_path, argv):
    args = [argv[0], str(malicious_h5)] + [str(tmp_path / a) if a.endswith(".h5") else a for a in argv[1:]]
    if argv[0] == "samples":
        code, out, err = cli(["samples", "--no-shared", "--runs-dir", str(tmp_path), "--name", "s",
                              str(malicious_h5)])
        assert code == 0 and "refused unread" in out and "Traceback" not in err   # listed as an unreadable sample
        return
    cli_refused(args)


@pytest.fixture
def malicious_checkpoint(tmp_path):
    "A checkpoint with the right keys whose 'history' unpickles to `touch MARKER`."
    MARKER.unlink(missing_ok=True)
    m = Line()
    torch.save({"model": m.state_dict(), "optimizer": {}, "generator": torch.zeros(1), "best": None, "wait": 0,
                "epoch": 0, "history": Exploit()}, tmp_path / "evil.pt")
    yield tmp_path / "evil.pt"
    assert not MARKER.exists(), "loading the checkpoint ran its code"


def test_checkpoint_load_best_runs_no_code(malicious_checkpoint):
    assert "not a readable jetad fit checkpoint" in refused(load_best, Line(), malicious_checkpoint)


def test_checkpoint_resume_runs_no_code(malicious_checkpoint):
    refused(fit, Line(), _xy(), _xy(16, 1), epochs=2, checkpoint=malicious_checkpoint, resume=True,
            show_progress=False, device="cpu")


def test_read_path_never_imports_pytables(files):
    "PyTables unpickles object columns: the LHCO readers must not even import it."
    p = files["lhco_blosc.h5"][0]
    code = ("import sys; from jetad_nb import io; io.read_lhco(r'%s', show_progress=False); io.detect_format(r'%s');"
            "print('tables' in sys.modules)") % (p, p)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "JETAD_PROGRESS": "0"})
    assert out.stdout.strip().splitlines()[-1] == "False"


# --- wrong dtypes, attributes, shapes and counts --------------------------------------------------------------------

def _edit_h5(src, dst, edit):
    dst.write_bytes(src.read_bytes())
    with h5py.File(dst, "a") as f:
        edit(f)
    return dst


def _replace(f, key, value):
    del f[key]
    f[key] = value


CACHE_EDITS = {
    "schema text": lambda f: f.attrs.__setitem__("jetad_schema", "one"),
    "schema 3": lambda f: f.attrs.__setitem__("jetad_schema", 3),
    "schema 1 label on flat arrays": lambda f: f.attrs.__setitem__("jetad_schema", 1),
    "short constituents": lambda f: _replace(f, "constituents/eta", np.ones(2, "f4")),
    "schema float": lambda f: f.attrs.__setitem__("jetad_schema", 1.5),
    "no counts": lambda f: f.__delitem__("constituents/counts"),
    "no pt": lambda f: f.__delitem__("jets/pt"),
    "short pt": lambda f: _replace(f, "jets/pt", np.ones(1, "f4")),
    "text pt": lambda f: _replace(f, "jets/pt", np.array([b"a", b"b"])),
    "2-d eta": lambda f: _replace(f, "jets/eta", np.ones((2, 2), "f4")),
    "narrow constituents": lambda f: _replace(f, "constituents/eta", np.ones((2, 1), "f4")),
    "counts too big": lambda f: _replace(f, "constituents/counts", np.array([2, 10**9], "i4")),
    "negative counts": lambda f: _replace(f, "constituents/counts", np.array([-1, 6], "i4")),
    "2-d counts": lambda f: _replace(f, "constituents/counts", np.array([[2], [3]], "i4")),
    "counts extra row": lambda f: _replace(f, "constituents/counts", np.array([2, 3, 1], "i4")),
    "params not json": lambda f: f.attrs.__setitem__("params", "{not json"),
}


@pytest.mark.parametrize("edit", list(CACHE_EDITS))
def test_cache_damage(files, tmp_path, edit):
    p = _edit_h5(files["cache.h5"][0], tmp_path / "c.h5", CACHE_EDITS[edit])
    if edit == "params not json":
        refused(io.jets_h5_params, p)
        return
    assert str(p) in refused(io.read_jets_h5, p)   # the message names the file


EVENTS_EDITS = {
    "no x": lambda f: f.__delitem__("a/x"),
    "no signal": lambda f: f.__delitem__("a/signal"),
    "short signal": lambda f: _replace(f, "a/signal", np.ones(2, bool)),
    "1-d c": lambda f: _replace(f, "a/c", np.ones(5)),
    "text x": lambda f: _replace(f, "a/x", np.array([[b"a", b"b"]] * 5)),
    "group is a dataset": lambda f: _replace(f, "a", np.ones(3)),
}


@pytest.mark.parametrize("edit", list(EVENTS_EDITS))
def test_events_damage(files, tmp_path, edit):
    p = _edit_h5(files["events.h5"][0], tmp_path / "e.h5", EVENTS_EDITS[edit])
    refused(io.read_events_h5, p, "a")


def _set(df, col, v):
    df[col] = v
    return df


LHCO_BAD = {
    "5 columns": lambda: pd.DataFrame(np.ones((3, 5))),
    "2 columns": lambda: pd.DataFrame(np.ones((3, 2))),
    "text column": lambda: _lhco_frame().assign(note="x"),
    "NaN eta": lambda: _set(_lhco_frame(), 1, np.nan),
    "inf pt": lambda: _set(_lhco_frame(), 0, np.inf),
    "label 2": lambda: _set(_lhco_frame(), 9, 2.0),
    "label NaN": lambda: _set(_lhco_frame(), 9, np.nan),
    "datetime column": lambda: _lhco_frame().assign(t=pd.Timestamp("2020-01-01")),
}


@pytest.mark.parametrize("case", list(LHCO_BAD))
def test_lhco_bad_content(tmp_path, case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        LHCO_BAD[case]().to_hdf(tmp_path / "x.h5", key="df", format="fixed")
    refused(io.read_lhco, tmp_path / "x.h5", show_progress=False)


@pytest.mark.parametrize("kw", [dict(start=-1), dict(chunk=0), dict(r=0.0), dict(start=10**9), dict(min_pt=1e9),
                                dict(key="nope")])
def test_lhco_bad_arguments(files, kw):
    refused(io.read_lhco, files["lhco.h5"][0], show_progress=False, **kw)


@pytest.mark.parametrize("key", ["0\n1\n", "0\n1\n2\n0\n1\n0\n", "a\nb\n", "0,1\n1,0\n0,1\n1,0\n0,1\n1,0\n", ""])
def test_master_key_bad(files, tmp_path, key):
    (tmp_path / "k.masterkey").write_text(key)
    refused(io.read_lhco, files["blackbox.h5"][0], master_key=tmp_path / "k.masterkey", show_progress=False)


VRNN_BAD = {
    "3-d constituents": (np.ones((2, 3, 4)), np.ones((2, 1, 10))),
    "slots differ": (np.ones((2, 2, 3, 4)), np.ones((2, 3, 10))),
    "9 hlvs": (np.ones((2, 2, 3, 4)), np.ones((2, 2, 9))),
}


@pytest.mark.parametrize("case", list(VRNN_BAD))
def test_vrnn_bad_shapes(tmp_path, case):
    with h5py.File(tmp_path / "v.h5", "w") as f:
        f["constituents"], f["hlvs"] = VRNN_BAD[case]
    refused(io.read_vrnn, tmp_path / "v.h5")


@pytest.mark.parametrize("arr", [np.ones((3, 5)), np.ones(6), np.array([["a"] * 6]), np.array([[object()] * 6])])
def test_cathode_bad_arrays(tmp_path, arr):
    np.save(tmp_path / "a.npy", arr, allow_pickle=True)
    refused(io.read_cathode_arrays, tmp_path / "a.npy")


# --- writers: nothing that looks complete is left behind -------------------------------------------------------------

def test_write_zero_jets(tmp_path):
    refused(io.write_jets_h5, io.toy_jets()[:0], tmp_path / "z.h5")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("target", ["existing folder", "under a file"])
def test_writers_refuse_unwritable_outputs(files, tmp_path, target):
    (tmp_path / "f").write_text("")
    out = tmp_path if target == "existing folder" else tmp_path / "f" / "x.h5"
    cli_refused(["convert", str(files["cache.h5"][0]), str(out)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]   # no temporary file left


@pytest.mark.parametrize("argv", [["--process", "qcd", "--events", "5"], ["--process", "qcd", "--jobs", "2"]])
def test_generate_refuses_bad_out_before_work(tmp_path, argv):
    (tmp_path / "f").write_text("")
    out = tmp_path if "--jobs" not in argv else tmp_path / "f"
    cli_refused(["generate", *argv, "--out", str(out)])


# --- fit: NaN/inf, out-of-range arguments, damaged checkpoints -------------------------------------------------------

def _nan(t, v=float("nan")):
    t = t.clone()
    t[3] = v
    return t


FIT_BAD = {
    "NaN train x": lambda: dict(train=(_nan(_xy()[0]), _xy()[1])),
    "inf train y": lambda: dict(train=(_xy()[0], _nan(_xy()[1], float("inf")))),
    "NaN validation": lambda: dict(val=(_nan(_xy(16, 1)[0]), _xy(16, 1)[1])),
    "patience -1": lambda: dict(patience=-1),
    "patience 0": lambda: dict(patience=0),
    "patience 1.5": lambda: dict(patience=1.5),
    "lr 0": lambda: dict(lr=0.0),
    "lr NaN": lambda: dict(lr=float("nan")),
    "epochs 0": lambda: dict(epochs=0),
    "batch 0": lambda: dict(batch_size=0),
    "min_delta -1": lambda: dict(min_delta=-1.0),
    "lengths differ": lambda: dict(train=(_xy()[0], _xy()[1][:10])),
    "no samples": lambda: dict(train=(_xy()[0][:0], _xy()[1][:0])),
    "optimizer sgd": lambda: dict(optimizer="sgd"),
}


@pytest.mark.parametrize("case", list(FIT_BAD))
def test_fit_bad_inputs(case):
    kw = dict(train=_xy(), val=_xy(16, 1), epochs=3, show_progress=False, device="cpu") | FIT_BAD[case]()
    refused(fit, Line(), **kw)


def test_fit_diverging_validation_loss():
    "A model whose validation loss becomes NaN stops with a one-line error, never with best_epoch -1."
    def poison(model, epoch):
        if epoch == 1:
            with torch.no_grad():
                model.w.bias.fill_(float("nan"))
    assert "loss became nan" in refused(fit, Line(), _xy(), _xy(16, 1), epochs=3, show_progress=False, device="cpu",
                                        epoch_hook=poison)


CKPT_BAD = {
    "other model": lambda p, d: torch.save(torch.load(p, weights_only=True) | {"model": nn.Linear(3, 2).state_dict(),
                                                                                "best": None}, d),
    "missing keys": lambda p, d: torch.save({"model": Line().state_dict()}, d),
    "a list": lambda p, d: torch.save([1, 2], d),
    "text": lambda p, d: d.write_text("not a checkpoint"),
    "empty": lambda p, d: d.write_bytes(b""),
    "bad history": lambda p, d: torch.save(torch.load(p, weights_only=True) | {"history": {"x": 1}}, d),
}


@pytest.mark.parametrize("case", list(CKPT_BAD))
@pytest.mark.parametrize("how", ["load_best", "resume"])
def test_bad_checkpoints(files, tmp_path, case, how):
    d = tmp_path / "ck.pt"
    CKPT_BAD[case](files["ck.pt"][0], d)
    if how == "load_best":
        if case == "bad history":
            return   # load_best reads only the weights
        refused(load_best, Line(), d)
    else:
        refused(fit, Line(), _xy(), _xy(16, 1), epochs=4, checkpoint=d, resume=True, show_progress=False,
                device="cpu")


# --- jetad run: parameters, config keys, notebooks folder ------------------------------------------------------------

def _notebook(folder, stem, cell):
    import json
    nb = {"cells": [{"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": cell, "outputs": [],
                     "execution_count": None}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (folder / f"{stem}.ipynb").write_text(json.dumps(nb))
    return folder / f"{stem}.ipynb"


@pytest.fixture
def nbs(tmp_path):
    cell = ('epochs = 30  # [1, 10000] maximum epochs\nlr = 3e-3  # (0, 1] learning rate\n'
            'classifier = "nn"  # {nn, hgb} the classifier\nwindow = [153.0, 193.0]  # [0, inf] GeV window\n'
            'n_train = 100  # [1, inf) training jets\nseed = 0  # a seed, not annotated\npath = None  # a file\n')
    return [_notebook(tmp_path, f"{i:02d}_nb", cell) for i in range(9)]


RANGE_BAD = [("epochs", -3), ("epochs", 0), ("epochs", 10**6), ("lr", 0.0), ("lr", 2.0), ("lr", float("nan")),
             ("classifier", "svm"), ("window", [10.0, -1.0]), ("n_train", 0), ("epochs", 2.5), ("classifier", 3)]


@pytest.mark.parametrize("name,value", RANGE_BAD)
def test_parameter_out_of_range(nbs, name, value):
    msg = refused(resolve_parameters, nbs, overrides=[(f"05.{name}", value)])
    assert msg.startswith("05_nb: parameter") and name in msg


@pytest.mark.parametrize("name,value", [("epochs", 1), ("lr", 1.0), ("classifier", "hgb"), ("window", [0.0, 1e9]),
                                        ("seed", -7), ("path", None)])
def test_parameter_in_range(nbs, name, value):
    assert resolve_parameters(nbs, overrides=[(f"05.{name}", value)])["05_nb"][name] == value


@pytest.mark.parametrize("key", [f"{i:02d}" for i in range(9)])
def test_yaml_notebook_keys(nbs, key):
    "YAML reads 00-07 as (octal) integers and 08 as a string: every form names notebook NN."
    import yaml
    cfg = yaml.safe_load(f"{key}: {{epochs: 3}}")
    assert resolve_parameters(nbs, config=cfg)[f"{key}_nb"] == {"epochs": 3}


BAD_OVERRIDES = [["-p", "03.samples", "[qcd, \""], ["-p", "epochs", "{a: [}"], ["-p", "99.epochs", "3"]]


@pytest.mark.parametrize("argv", BAD_OVERRIDES)
def test_run_bad_overrides(argv):
    cli_refused(["run", "--only", "00", *argv])


def test_run_empty_notebooks_folder(tmp_path):
    cli_refused(["run", "--nbs", str(tmp_path)])


def test_run_out_of_range_refused_before_work(nbs, tmp_path):
    cli_refused(["run", "--nbs", str(nbs[0].parent), "--runs-dir", str(tmp_path / "runs"), "-p", "epochs", "-3"])
    assert not (tmp_path / "runs").exists()
