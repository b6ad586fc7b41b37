"""Method E pieces: flows against analytic likelihoods, classifier weights against known density ratios, SIC/floor,
injection, splits, scaling, the events cache."""
import numpy as np
import pytest
import torch

from jetad_nb.core import JetADError
from jetad_nb.evaluate import fpr_floor
from jetad_nb.evaluate import max_sic
from jetad_nb.evaluate import sic_at_rejection
from jetad_nb.extrapolation import Salad
from jetad_nb.extrapolation import Transport
from jetad_nb.extrapolation import distort
from jetad_nb.extrapolation import split_data
from jetad_nb.io import Events
from jetad_nb.io import read_events_h5
from jetad_nb.io import write_events_h5
from jetad_nb.train import predict
from jetad_nb.weak import Flow
from jetad_nb.weak import MinMax
from jetad_nb.weak import anomaly_scores
from jetad_nb.weak import classify
from jetad_nb.weak import crop_weights
from jetad_nb.weak import in_region
from jetad_nb.weak import inject
from jetad_nb.weak import odds_weights
from jetad_nb.weak import sic_summary
from jetad_nb.weak import train_classifier
from jetad_nb.weak import train_density


def test_flow_loglik_of_known_gaussian():
    "x ~ N(A c, diag(0.3, 0.7)^2): the trained flow's mean log-likelihood approaches the Gaussian's -entropy."
    rng = np.random.default_rng(0)
    c = rng.uniform(-1, 1, (12000, 2)).astype(np.float32)
    sig = np.array([0.3, 0.7])
    x = (c @ np.array([[1.0, 0.5], [-0.5, 1.0]]) + sig * rng.normal(size=(12000, 2))).astype(np.float32)
    fl = train_density(
        Flow(2, 2, transforms=3, hidden=(32, 32)),
        x[:10000],
        c[:10000],
        epochs=30,
        batch_size=256,
        lr=3e-3,
        patience=5,
        device="cpu",
        show_progress=False,
    )
    ll = predict(fl, (x[10000:], c[10000:]))["log_prob"].mean()
    exact = -np.sum(np.log(sig * np.sqrt(2 * np.pi))) - 1.0
    assert abs(ll - exact) < 0.06, (ll, exact)
    s = fl.sample(np.repeat(c[:1], 20000, 0))                   # samples at one context follow the right Gaussian
    np.testing.assert_allclose(s.std(0), sig, rtol=0.1)

@pytest.mark.parametrize("n0,n1", [(20000, 20000), (30000, 8000)])
def test_classifier_odds_recover_density_ratio(n0, n1):
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, (n0, 1)), rng.normal(0.5, 1, (n1, 1))
    clf = train_classifier(a, b, epochs=25, batch_size=512, device="cpu")
    x = np.linspace(-1, 1, 9)[:, None].astype(np.float32)
    p = classify(clf, x)
    np.testing.assert_allclose(
        p / (1 - p), np.exp(0.5 * x[:, 0] - 0.125), rtol=0.12
    )  # class balancing: no n1/n0 factor

def test_weights_make_classes_indistinguishable():
    "Class 0 ~ N(0,1) weighted by the true ratio to N(0.5,1) looks like class 1: p ~ 0.5 everywhere."
    rng = np.random.default_rng(2)
    a, b = rng.normal(0, 1, (30000, 1)), rng.normal(0.5, 1, (30000, 1))
    w = np.exp(0.5 * a[:, 0] - 0.125)
    clf = train_classifier(a, b, w0=w, epochs=15, batch_size=512, device="cpu")
    p = classify(clf, np.linspace(-1, 1.5, 6)[:, None].astype(np.float32))
    np.testing.assert_allclose(p, 0.5, atol=0.05)

def test_ensemble_and_errors():
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, (2000, 2)), rng.normal(1, 1, (2000, 2))
    clfs = [train_classifier(a, b, epochs=3, seed=s, device="cpu") for s in (0, 1)]
    x = rng.normal(size=(50, 2)).astype(np.float32)
    np.testing.assert_allclose(classify(clfs, x), (classify(clfs[0], x) + classify(clfs[1], x)) / 2, rtol=1e-6)
    with pytest.raises(JetADError, match="both classes"):
        train_classifier(a[:0], b)

def test_ensembles_of_different_seeds_share_no_member():
    "Ensemble seed s trains members s*n+k: seeds 0, 1, 2 give independent ensembles (a band over seeds is a real spread)."
    rng = np.random.default_rng(5)
    ev = lambda loc, n: Events(np.zeros((n, 1)), rng.normal(loc, 1, (n, 2)), np.zeros(n, bool))
    t, d, test = ev(0, 600), ev(0.5, 600), ev(0.2, 40)
    kw = dict(epochs=2, device="cpu")
    two = anomaly_scores(t, np.ones(len(t)), d, test, n_ensemble=2, seed=1, **kw)
    ones = [anomaly_scores(t, np.ones(len(t)), d, test, n_ensemble=1, seed=s, **kw) for s in (2, 3)]
    np.testing.assert_allclose(two, (ones[0] + ones[1]) / 2, rtol=1e-5)      # members 2 and 3, not 1 and 2
    assert not np.allclose(two, anomaly_scores(t, np.ones(len(t)), d, test, n_ensemble=2, seed=0, **kw))

def test_crop_and_odds():
    w = np.r_[np.ones(1000), 500.0]
    c = crop_weights(w)
    assert c[-1] == pytest.approx(w.mean() + 3 * w.std()) and (c[:-1] == 1).all()
    np.testing.assert_allclose(odds_weights(np.array([0.2, 0.5, 0.8]), None), [0.25, 1, 4])
    assert np.isfinite(odds_weights(np.array([0.0, 1.0]), None)).all()

def test_sic_and_floor_on_hand_made_scores():
    y = np.r_[np.zeros(10000), np.ones(1000)]
    s = np.r_[np.arange(10000) / 10000, 2 + np.arange(1000) / 1000]            # perfect separation
    assert fpr_floor(10000) == pytest.approx(1 / 1600)
    assert max_sic(y, s) == pytest.approx(1 / np.sqrt(7 / 10000), rel=0.02)  # best cut at the floor (7 background pass)
    assert sic_at_rejection(y, s, 1000) == pytest.approx(np.sqrt(1000))
    assert np.isnan(sic_at_rejection(y, s, 1e4))                                  # 1e-4 < floor 6.25e-4
    rng = np.random.default_rng(0)
    rand = rng.uniform(size=len(y))
    summ = sic_summary(y, rand)
    assert abs(summ["auc"] - 0.5) < 0.03 and summ["max_sic"] < 2.0 and summ["fpr_floor"] == pytest.approx(1 / 1600)

def events(n, seed, sig=False):
    rng = np.random.default_rng(seed)
    return Events(rng.normal(size=(n, 2)), rng.normal(size=(n, 3)), np.full(n, sig))

def test_injection_and_split():
    b, s = events(20000, 0), events(3000, 1, True)
    lower = [0.5, 0.5]
    for sb in (0.0, 0.01, 0.1):
        d = inject(b, s, sb, lower, seed=3)
        sr = in_region(d.c, lower)
        assert d.signal[sr].sum() == round(sb * in_region(b.c, lower).sum())
        assert (~d.signal).sum() == len(b)
    with pytest.raises(JetADError, match="s_over_b"):
        inject(b, s, -0.1, lower)
    parts = split_data(b, lower, seed=1)
    assert sum(len(p) for p in parts.values()) == len(b)
    keys = [set(map(tuple, np.round(p.c, 9))) for p in parts.values()]
    assert not (keys[0] & keys[1]) and not (keys[1] & keys[2])

def test_minmax_and_distort():
    x = np.random.default_rng(0).normal(size=(1000, 3)) * [1, 10, 100]
    s = MinMax.fit(x)(x)
    np.testing.assert_allclose(s.min(0), -2.5, atol=1e-5)
    np.testing.assert_allclose(s.max(0), 2.5, atol=1e-5)
    e = Events(np.array([[1000.0, 50.0]]), np.array([[6000.0, 0.25, 0.25, 0.25, 0.25]]), np.array([False]))
    d = distort(e)
    assert (
        d.c[0, 1] == pytest.approx(55.0)
        and d.x[0, 0] == pytest.approx(12000.0)
        and d.x[0, 1] == pytest.approx(0.25**1.1)
    )
    assert e.c[0, 1] == 50.0    # the input is not changed

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
