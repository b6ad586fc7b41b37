"""Method E pieces: the MC distortion, FETA's transport, SALAD's weights, the data split, the runner and the scan on a
toy, the events cache."""
import numpy as np
import pytest
import torch

from jetad_nb.core import JetADError
from jetad_nb.extrapolation import METHODS
from jetad_nb.extrapolation import Salad
from jetad_nb.extrapolation import Transport
from jetad_nb.extrapolation import distort
from jetad_nb.extrapolation import injection_scan
from jetad_nb.extrapolation import region_parts
from jetad_nb.io import Events
from jetad_nb.io import read_events_h5
from jetad_nb.io import write_events_h5
from jetad_nb.weak import Flow
from jetad_nb.weak import in_region
from jetad_nb.weak import scan_results_rows
from jetad_nb.weak import split_data


def events(n, seed, sig=False):
    rng = np.random.default_rng(seed)
    return Events(rng.normal(size=(n, 2)), rng.normal(size=(n, 3)), np.full(n, sig))

def test_split_data():
    b = events(20000, 0)
    parts = split_data(b, seed=1)
    assert [len(parts[k]) for k in ("ideal", "test", "data")] == [5000, 5000, 10000]
    keys = [set(map(tuple, np.round(p.c, 9))) for p in parts.values()]
    assert not (keys[0] & keys[1]) and not (keys[1] & keys[2])

def test_distort():
    e = Events(np.array([[1000.0, 50.0]]), np.array([[6000.0, 0.25, 0.25, 0.25, 0.25]]), np.array([False]))
    d = distort(e)
    assert (
        d.c[0, 1] == pytest.approx(55.0)
        and d.x[0, 0] == pytest.approx(12000.0)
        and d.x[0, 1] == pytest.approx(0.25**1.1)
    )
    assert e.c[0, 1] == 50.0    # the input is not changed

def test_region_parts_cover_every_sample():
    data, mc, tb, ts = events(3000, 0), events(4000, 1), events(1000, 2), events(500, 3, True)
    p = region_parts(data, mc, events(1000, 4), tb, ts, events(500, 5, True), [0.0, 0.0], seed=2)
    assert len(p["data_sr"]) + len(p["data_cr"]) == len(data)
    assert len(p["mc_sr"]) + len(p["mc_fit"]) + len(p["mc_hold"]) == len(mc)
    assert abs(len(p["mc_fit"]) - len(p["mc_hold"])) <= 1 and in_region(p["ideal_sr"].c, [0.0, 0.0]).all()
    assert len(p["test"]) == in_region(tb.c, [0.0, 0.0]).sum() + in_region(ts.c, [0.0, 0.0]).sum()

def _toy(n, kind, rng, t=np.pi / 4):
    "The toy of 13_extrapolation_toy: context (m1, m2), one feature that drifts with the context."
    c = rng.normal(2.8, 0.5, (n, 2)) if kind == "signal" else rng.normal(-1.0, 2.0 if kind == "data" else 2.8, (n, 2))
    x = rng.normal(0.5 * (np.cos(t) * c[:, 0] + np.sin(t) * c[:, 1]), 1.0)[:, None]
    return Events(c.astype(np.float32), x.astype(np.float32), np.full(n, kind == "signal"))

def test_injection_scan_on_the_toy_to_results_rows():
    "Every method runs at two S/B values; the bounds have no closure; the rows name the search and the S/B."
    rng = np.random.default_rng(0)
    bkg, mc, sig = _toy(8000, "data", rng), _toy(8000, "mc", rng), _toy(1500, "signal", rng)
    torch.manual_seed(0)
    res, curves = injection_scan(
        bkg, mc, sig, np.array([1.0, 1.0]), [0.0, 0.05], [0], n_ensemble=1, oversample=2, show_progress=False,
        clf_kwargs={"epochs": 5, "batch_size": 512, "device": "cpu"},
        flow_kwargs={"epochs": 10, "batch_size": 512, "device": "cpu", "show_progress": False},
        flow_arch={"transforms": 1, "hidden": (16,)},
    )
    assert res.method.tolist() == list(METHODS) * 2 and res.s_over_b.tolist() == [0.0] * 5 + [0.05] * 5
    t = res.set_index(["s_over_b", "method"])
    assert t.loc[(0.05, "salad"), "n_signal_sr"] > 0 and (t.loc[0.0, "n_signal_sr"] == 0).all()
    assert t.closure_auc.loc[(0.05, ["idealized", "supervised"])].isna().all()
    assert t.closure_auc.loc[(0.05, ["salad", "cathode", "feta"])].between(0.3, 0.7).all()
    assert t.auc.between(0, 1).all() and (t.n_test_bkg == t.n_test_bkg.iloc[0]).all()   # one test set per seed
    rows = scan_results_rows(res, curves, "toy", "extrapolation", "test", "13_extrapolation_toy", {"n_data": 8000},
                             ["closure_auc"])
    assert [r["method"] for r in rows[:2]] == ["salad (extrapolation)", "cathode (extrapolation)"]
    assert rows[-1]["signal"] == "toy S/B=0.05" and rows[-1]["auc"] == pytest.approx(t.loc[(0.05, "supervised"), "auc"])

def test_transport_identity_start_and_inverse():
    fl = Flow(3, 2, hidden=(8, 8))
    tr = Transport(fl, 3, 2)
    x, c = np.random.randn(10, 3).astype(np.float32), np.random.randn(10, 2).astype(np.float32)
    np.testing.assert_allclose(tr.morph(x, c), x, atol=1e-6)
    for p in tr.t.parameters():
        torch.nn.init.normal_(p, std=0.3)
    y = tr.morph(x, c)
    u, _ = tr.t(torch.tensor(c)).call_and_ladj(torch.tensor(y))
    np.testing.assert_allclose(u.detach().numpy(), x, atol=1e-4)          # t_c(t_c^-1(x)) = x
    assert all(not p.requires_grad for p in tr.base.parameters())

def test_salad_reweights_shifted_mc():
    "MC = data shifted by 0.3 in every column: SALAD weights bring the MC mean onto the data mean."
    rng = np.random.default_rng(4)
    data = Events(rng.normal(size=(20000, 2)), rng.normal(size=(20000, 2)), np.zeros(20000, bool))
    mc = Events(rng.normal(0.3, 1, (20000, 2)), rng.normal(0.3, 1, (20000, 2)), np.zeros(20000, bool))
    m = Salad().fit(mc[:10000], data[:10000], epochs=15, batch_size=512, device="cpu")
    ev, w = m.template(mc[10000:])
    np.testing.assert_allclose(np.average(ev.x, axis=0, weights=w), 0.0, atol=0.06)
    assert abs(ev.x.mean(0)).min() > 0.25

def test_events_cache_roundtrip(tmp_path):
    e = events(5, 0)
    write_events_h5(tmp_path / "e.h5", {"qcd": e}, note="x")
    back = read_events_h5(tmp_path / "e.h5", "qcd")
    np.testing.assert_array_equal(back.c, e.c)
    np.testing.assert_array_equal(back.x, e.x)
    with pytest.raises(JetADError, match="no sample 'hv'"):
        read_events_h5(tmp_path / "e.h5", "hv")
    (tmp_path / "bad.h5").write_bytes(b"nope")
    with pytest.raises(JetADError):
        read_events_h5(tmp_path / "bad.h5", "qcd")
    import h5py
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["x"] = [1]
    with pytest.raises(JetADError, match="not a jetad events file"):
        read_events_h5(tmp_path / "other.h5", "x")

def test_unknown_method_refused_before_any_work():
    from jetad_nb.extrapolation import run_methods
    e = events(100, 0)
    with pytest.raises(JetADError, match="unknown 'cathod'"):
        run_methods(e, e, e, e, e, e, [0.0, 0.0], methods=["salad", "cathod"])

def test_main_job_lists_events_cache(tmp_path):
    "The shipped event-features file is listed by the main job as events (not read as jets, not an error)."
    from jetad_nb.core import data_dir
    from jetad_nb.io import summarise_samples
    table, tables = summarise_samples([data_dir() / "extrapolation.h5", data_dir() / "h4q.h5"], tmp_path)
    row = table.set_index("sample").loc["data/extrapolation.h5"]
    assert row.status == "ok" and row.format == "events" and "qcd" in row.note and row.events > 40000
    assert list(tables) == ["data/h4q.h5"]
