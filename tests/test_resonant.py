"""Resonant search (15): features against direct four-vector sums, scalers, the KDE window sampler, splits and
injection with a window, and an end-to-end run on synthetic events where the answer is known."""
import awkward as ak
import numpy as np
import pytest

from jetad_nb.core import JetADError
from jetad_nb.io import Events
from jetad_nb.resonant import RESONANT_METHODS
from jetad_nb.resonant import LogitScaler
from jetad_nb.resonant import Preprocess
from jetad_nb.resonant import mjj_ratio
from jetad_nb.resonant import regions
from jetad_nb.resonant import resonant_features
from jetad_nb.resonant import resonant_scan
from jetad_nb.resonant import run_resonant
from jetad_nb.resonant import sample_window
from jetad_nb.resonant import split_background
from jetad_nb.weak import in_region
from jetad_nb.weak import inject
from jetad_nb.weak import scan_results_rows
from jetad_nb.weak import split_signal
from jetad_nb.weak import x_only


def _table(rng, n):
    "Random two-jet events (rank 0 is the harder jet), fields as the readers give them."
    pt = np.sort(rng.uniform(800, 2000, (n, 2)), axis=1)[:, ::-1]
    eta, phi = rng.uniform(-3, 3, (n, 2)), rng.uniform(-np.pi, np.pi, (n, 2))
    m, t1 = rng.uniform(20, 600, (n, 2)), rng.uniform(0, 1, (n, 2))
    t1[rng.random((n, 2)) < 0.05] = 0.0                            # tau1 = 0 happens for one-constituent jets
    t2 = t1 * rng.uniform(0, 1, (n, 2))
    lab = rng.integers(0, 2, n)
    f = lambda a: a.ravel()
    return ak.Array(
        {
            "event": np.repeat(np.arange(n), 2),
            "rank": np.tile([0, 1], n),
            "pt": f(pt),
            "eta": f(eta),
            "phi": f(phi),
            "mass": f(m),
            "tau1": f(t1),
            "tau2": f(t2),
            "label": np.repeat(lab, 2),
        }
    ), (pt, eta, phi, m, t1, t2, lab)

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_features_against_direct_computation(seed):
    rng = np.random.default_rng(seed)
    tab, (pt, eta, phi, m, t1, t2, lab) = _table(rng, 400)
    ev = resonant_features(tab)
    keep = (pt.max(1) > 1200) & (np.abs(eta) < 2.5).all(1)
    assert len(ev) == keep.sum() > 0
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    e = np.sqrt(px ** 2 + py ** 2 + pz ** 2 + m ** 2)
    mjj = np.sqrt(np.maximum(e.sum(1) ** 2 - px.sum(1) ** 2 - py.sum(1) ** 2 - pz.sum(1) ** 2, 0))
    np.testing.assert_allclose(ev.c[:, 0], mjj[keep], rtol=1e-6)
    lo = np.argmin(m, 1)[keep]
    hi = 1 - lo
    k = np.arange(keep.sum())
    mk, r21 = m[keep], np.where(t1 > 0, t2 / np.where(t1 > 0, t1, 1), 0)[keep]
    np.testing.assert_allclose(ev.x[:, 0], mk[k, lo])
    np.testing.assert_allclose(ev.x[:, 1], mk[k, hi] - mk[k, lo])
    np.testing.assert_allclose(ev.x[:, 2], r21[k, lo])
    np.testing.assert_allclose(ev.x[:, 3], r21[k, hi])
    assert (ev.x[:, 1] >= 0).all() and np.array_equal(ev.signal, lab[keep] > 0)
    assert resonant_features(tab, label=True).signal.all()

def test_features_selection_edges_and_one_jet_events():
    rng = np.random.default_rng(5)
    tab, (pt, eta, *_rest) = _table(rng, 300)
    for min_pt, max_eta in [(1000.0, 2.0), (1500.0, 1.0), (0.0, 10.0)]:
        ev = resonant_features(tab, min_lead_pt=min_pt, max_abs_eta=max_eta)
        assert len(ev) == ((pt.max(1) > min_pt) & (np.abs(eta) < max_eta).all(1)).sum()
    one = tab[~((tab.event == 3) & (tab["rank"] == 1))]          # event 3 loses its second jet: it cannot enter
    assert len(resonant_features(one, min_lead_pt=0, max_abs_eta=10)) == 299
    with pytest.raises(JetADError, match="missing field 'tau2'"):
        resonant_features(tab[["event", "rank", "pt", "eta", "phi", "mass", "tau1", "label"]])

@pytest.mark.parametrize("shape", [(500, 1), (2000, 4), (50, 3)])
def test_logit_scaler_roundtrip_and_standardisation(shape):
    rng = np.random.default_rng(shape[0])
    x = rng.gamma(2.0, 50.0, shape)
    s = LogitScaler.fit(x)
    z = s(x)
    assert z.dtype == np.float32 and np.isfinite(z).all()
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(z.std(0), 1, atol=1e-3)
    np.testing.assert_allclose(s.inverse(z), x, rtol=1e-3, atol=1e-3)
    far = s(x.max(0, keepdims=True) * 10)                         # outside the fitted range: clipped, finite
    assert np.isfinite(far).all()

def test_sample_window_follows_truncated_distribution():
    rng = np.random.default_rng(0)
    m = rng.exponential(1.0, 20000)
    d = sample_window(m[(m > 0.5) & (m < 1.5)], 30000, (0.5, 1.5), seed=1)
    assert len(d) == 30000 and ((d > 0.5) & (d < 1.5)).all()
    # truncated exponential on (0.5, 1.5): mean = 0.5 + 1 - 1 / (e - 1); the KDE smears it a little
    assert abs(d.mean() - (1.5 - 1 / (np.e - 1))) < 0.02
    np.testing.assert_array_equal(d, sample_window(m[(m > 0.5) & (m < 1.5)], 30000, (0.5, 1.5), seed=1))

def test_split_background_and_windowed_injection():
    rng = np.random.default_rng(3)
    bkg = Events(rng.uniform(2500, 4500, (20000, 1)), rng.normal(size=(20000, 2)), np.zeros(20000, bool))
    sig = Events(rng.normal(3500, 150, (5000, 1)), rng.normal(2, 1, (5000, 2)), np.ones(5000, bool))
    sr = (3300.0, 3700.0)
    p = split_background(bkg, sr, frac_ideal=0.2, frac_test=0.3, seed=4)
    n_sr = in_region(bkg.c, [sr[0]], [sr[1]]).sum()
    assert len(p["ideal"]) == int(0.2 * n_sr) and len(p["test"]) == int(0.5 * n_sr) - int(0.2 * n_sr)
    assert sum(map(len, p.values())) == len(bkg)
    assert in_region(p["ideal"].c, [sr[0]], [sr[1]]).all() and in_region(p["test"].c, [sr[0]], [sr[1]]).all()
    keys = lambda e: set(map(tuple, np.c_[e.c, e.x].round(9)))
    assert not (keys(p["ideal"]) & keys(p["test"])) and not (keys(p["data"]) & keys(p["ideal"]))
    for sob in (0.0, 0.006, 0.015):
        d = inject(p["data"], sig, sob, [sr[0]], seed=1, sr_upper=[sr[1]])
        d_sr = d[in_region(d.c, [sr[0]], [sr[1]])]
        n_b = (~d_sr.signal).sum()
        assert d_sr.signal.sum() == round(sob * n_b)
    sp = split_signal(sig)
    assert [len(sp[k]) for k in ("pool", "test", "train")] == [1666, 1666, 1668]
    assert len(keys(sp["pool"]) | keys(sp["test"]) | keys(sp["train"])) == 5000

def test_mjj_ratio_is_flat_for_a_subsample_and_drops_with_a_cut():
    rng = np.random.default_rng(0)
    m = 2000 + rng.exponential(600, 200000)
    loose = Events(m[:, None], np.zeros((len(m), 1)), np.zeros(len(m), bool))
    tight = loose[m > 2800]
    c, r, err = mjj_ratio(tight, loose, np.linspace(2000, 4000, 11))
    assert np.all(r[c < 2800] == 0)
    np.testing.assert_allclose(r[c > 2900], 1, atol=4 * err[c > 2900].max())

def test_run_resonant_on_synthetic_events():
    """Background x ~ N(0.2 m, 1) (a mild m dependence), signal at (3, 3) in a narrow m window: the idealized and
    supervised classifiers find it, the flow template closes (flow AUC near 0.5)."""
    rng = np.random.default_rng(0)
    n = 40000
    m = rng.uniform(-2, 2, n)
    bkg = Events(m[:, None], np.c_[0.2 * m, 0.2 * m] + rng.normal(size=(n, 2)), np.zeros(n, bool))
    ns = 3000
    sig = Events(rng.normal(0, 0.1, (ns, 1)), rng.normal(3, 0.5, (ns, 2)), np.ones(ns, bool))
    sr, sb = (-0.4, 0.4), (-2.0, 2.0)
    p = split_background(bkg, sr, seed=0)
    sp = split_signal(sig)
    data = inject(p["data"], sp["pool"], 0.1, [sr[0]], seed=0, sr_upper=[sr[1]])
    tab, curves = run_resonant(
        data,
        p["ideal"],
        Events.concat(p["test"], sp["test"]),
        sp["train"],
        sr,
        sb,
        n_ensemble=1,
        clf_kwargs={"epochs": 15, "batch_size": 512, "device": "cpu"},
        flow_kwargs={"epochs": 15, "batch_size": 512, "device": "cpu", "show_progress": False},
        flow_arch={"transforms": 2, "hidden": (32, 32)},
    )
    t = tab.set_index("method")
    assert list(t.index) == list(RESONANT_METHODS)
    assert t.loc["supervised", "auc"] > 0.97 and t.loc["idealized", "auc"] > 0.9 and t.loc["cathode", "auc"] > 0.85
    assert abs(t.loc["cathode", "flow_auc"] - 0.5) < 0.05
    assert t.loc["cathode", "n_signal_sr"] == round(
        0.1 * (t.loc["cathode", "n_data_sr"] - t.loc["cathode", "n_signal_sr"])
    )
    with pytest.raises(JetADError, match="empty region"):
        run_resonant(data, p["ideal"], p["test"], sp["train"], (5.0, 6.0), (4.0, 7.0), methods=["cwola"])

def test_resonant_scan_injects_per_point_and_gives_rows():
    "CWoLa alone on synthetic events at S/B 0 and 0.1 with two seeds: the SR data hold the injected signal."
    rng = np.random.default_rng(1)
    n = 20000
    m = rng.uniform(-2, 2, n)
    bkg = Events(m[:, None], rng.normal(size=(n, 2)), np.zeros(n, bool))
    sig = Events(rng.normal(0, 0.1, (3000, 1)), rng.normal(3, 0.5, (3000, 2)), np.ones(3000, bool))
    res, curves = resonant_scan(bkg, sig, (-0.4, 0.4), (-2.0, 2.0), [0.0, 0.1], [0, 1], show_progress=False,
                                methods=["cwola"], n_ensemble=1, clf_kwargs={"epochs": 3, "device": "cpu"})
    assert res[["s_over_b", "seed"]].values.tolist() == [[0.0, 0], [0.0, 1], [0.1, 0], [0.1, 1]]
    assert (res.n_signal_sr[:2] == 0).all()
    np.testing.assert_allclose(res.n_signal_sr[2:] / (res.n_data_sr[2:] - res.n_signal_sr[2:]), 0.1, atol=0.002)
    rows = scan_results_rows(res, curves, "toy", "resonant", columns=["flow_auc", "s_over_sqrt_b"])
    assert [r["method"] for r in rows] == ["cwola (resonant)"] * 4 and rows[2]["signal"] == "toy S/B=0.1"

def test_regions_and_preprocess_edges():
    ev = Events(np.array([[2700.0], [2900], [3500], [3800], [4500]]), np.arange(10.0).reshape(5, 2), np.zeros(5, bool))
    s_r, s_b = regions(ev, (3300, 3700), (2800, 4400))
    assert s_r.c[:, 0].tolist() == [3500] and s_b.c[:, 0].tolist() == [2900, 3800]
    pre = Preprocess.fit(ev, (3300, 3700), (2800, 4400))
    s_r2, s_b2 = regions(pre(ev), pre.edges("sr"), pre.edges("sb"))
    assert len(s_r2) == 1 and len(s_b2) == 2
    assert x_only(ev).c.shape == (5, 0)

def test_lhco_file_features(shared):
    "The real LHC Olympics R&D tiny file: its W' signal has the lighter jet near 100 GeV and the other near 500 GeV."
    from jetad_nb.io import read_lhco
    ev = resonant_features(
        read_lhco(shared / "lhco" / "events_anomalydetection_tiny.h5", n_leading=2, show_progress=False)
    )
    s, b = ev[ev.signal], ev[~ev.signal]
    assert len(s) > 5 and len(b) > 50
    assert 70 < np.median(s.x[:, 0]) < 140 and 300 < np.median(s.x[:, 1]) < 450
    assert np.median(b.x[:, 0]) < 150 and np.median(s.x[:, 2]) < np.median(b.x[:, 2])


def test_published_preset_runs_on_lhco_features_files(tmp_path):
    "The lhco_published preset's files, written in the LHC Olympics features layout from shipped events, feed the scan."
    from test_lhco_inputs import _jets

    from jetad_nb.core import data_dir
    from jetad_nb.io import read_events_h5
    from jetad_nb.resonant import read_search_events
    from jetad_nb.resonant import resonant_scan
    from jetad_nb.run import nbs_dir
    from jetad_nb.run import resolve_parameters

    ev = Events.concat(*(read_events_h5(data_dir() / "lhco_events.h5", k) for k in ("qcd", "wprime")))
    ev = ev[ev.c[:, 0] > 2 * ev.x[:, 0] + ev.x[:, 1] + 1.0]
    nb = [nbs_dir() / "15_resonant_search.ipynb"]
    p = resolve_parameters(nb, "lhco_published", data_dir_=str(tmp_path))["15_resonant_search"]
    _jets(ev).to_hdf(p["data_path"], key="df", format="fixed")
    _jets(ev[~ev.signal], seed=3).to_hdf(p["ideal_path"], key="df", format="fixed")
    bkg, sig = read_search_events(p["data_path"])
    ideal, none = read_search_events(p["ideal_path"])
    assert (len(bkg), len(sig), len(ideal), len(none)) == ((~ev.signal).sum(), ev.signal.sum(), len(bkg), 0)
    np.testing.assert_allclose(np.sort(bkg.c[:, 0]), np.sort(ev.c[~ev.signal, 0]), rtol=1e-9)
    pre = Preprocess.fit(bkg, p["sr"], p["sb"])
    res, _ = resonant_scan(pre(bkg), pre(sig), pre.edges("sr"), pre.edges("sb"), p["injections"], [0], ideal=pre(ideal),
                           methods=["idealized", "supervised"], n_ensemble=1, clf_kwargs={"epochs": 2, "device": "cpu"},
                           show_progress=False)
    n_sr = in_region(bkg.c, [p["sr"][0]], [p["sr"][1]]).sum()
    assert res.n_data_sr[0] - res.n_signal_sr[0] == n_sr - int(0.25 * n_sr)     # no SR background set aside
    assert abs(res.n_signal_sr[0] - p["injections"][0] * (res.n_data_sr[0] - res.n_signal_sr[0])) <= 1
