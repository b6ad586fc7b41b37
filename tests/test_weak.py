"""The engine of the weakly supervised searches (12): flows against analytic likelihoods, classifier weights against
known density ratios, SIC and its floor, injection and the signal split, and a scan turned into results rows."""
import json

import numpy as np
import pandas as pd
import pytest

from jetad_nb.core import JetADError
from jetad_nb.evaluate import RESULT_COLUMNS
from jetad_nb.evaluate import append_results
from jetad_nb.evaluate import fpr_floor
from jetad_nb.evaluate import max_sic
from jetad_nb.evaluate import results_row
from jetad_nb.evaluate import sic_at_rejection
from jetad_nb.io import Events
from jetad_nb.train import predict
from jetad_nb.weak import Classifier
from jetad_nb.weak import Flow
from jetad_nb.weak import MinMax
from jetad_nb.weak import Snapshots
from jetad_nb.weak import add_noise_features
from jetad_nb.weak import anomaly_scores
from jetad_nb.weak import check_methods
from jetad_nb.weak import classify
from jetad_nb.weak import crop_weights
from jetad_nb.weak import in_region
from jetad_nb.weak import inject
from jetad_nb.weak import odds_weights
from jetad_nb.weak import plot_scan_point
from jetad_nb.weak import plot_sic_scan
from jetad_nb.weak import scan_injections
from jetad_nb.weak import scan_results_rows
from jetad_nb.weak import sic_summary
from jetad_nb.weak import split_signal
from jetad_nb.weak import train_classifier
from jetad_nb.weak import train_density
from jetad_nb.weak import train_hgb
from jetad_nb.weak import training_kwargs


def events(n, seed, sig=False):
    rng = np.random.default_rng(seed)
    return Events(rng.normal(size=(n, 2)), rng.normal(size=(n, 3)), np.full(n, sig))

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
    "Ensemble seed s trains members s*n+k: seeds 0, 1, 2 give independent ensembles (the band over seeds is real)."
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

def test_injection():
    b, s = events(20000, 0), events(3000, 1, True)
    lower = [0.5, 0.5]
    for sb in (0.0, 0.01, 0.1):
        d = inject(b, s, sb, lower, seed=3)
        sr = in_region(d.c, lower)
        assert d.signal[sr].sum() == round(sb * in_region(b.c, lower).sum())
        assert (~d.signal).sum() == len(b)
    with pytest.raises(JetADError, match="s_over_b"):
        inject(b, s, -0.1, lower)

def test_split_signal_in_disjoint_thirds():
    s = events(3001, 2, True)
    sp = split_signal(s)
    assert [len(sp[k]) for k in ("pool", "test", "train")] == [1000, 1000, 1001]
    keys = [set(map(tuple, np.round(sp[k].x, 9))) for k in ("pool", "test", "train")]
    assert len(keys[0] | keys[1] | keys[2]) == 3001
    np.testing.assert_array_equal(split_signal(s)["test"].x, sp["test"].x)       # fixed by its seed
    assert not np.array_equal(split_signal(s, seed=1)["test"].x, sp["test"].x)

def test_minmax():
    x = np.random.default_rng(0).normal(size=(1000, 3)) * [1, 10, 100]
    s = MinMax.fit(x)(x)
    np.testing.assert_allclose(s.min(0), -2.5, atol=1e-5)
    np.testing.assert_allclose(s.max(0), 2.5, atol=1e-5)

def test_check_methods_names_every_unknown_method():
    check_methods(["a"], ("a", "b"))
    with pytest.raises(JetADError, match="unknown 'x', 'y'; expected some of a, b"):
        check_methods(["x", "a", "y"], ("a", "b"))

def _point(s_over_b, seed):
    "A stand-in search point: method 'good' finds the signal (better with S/B), 'random' does not."
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(300), np.ones(100)].astype(int)
    cv = {m: (y, k * (1 + 20 * s_over_b) * y + rng.normal(size=len(y))) for m, k in [("good", 1.5), ("random", 0.0)]}
    rows = [{"method": m, "flow_auc": 0.5 + seed / 10, **sic_summary(*ys), "seconds": 2.0 + seed}
            for m, ys in cv.items()]
    return pd.DataFrame(rows), cv

def test_scan_results_rows_match_results_row(tmp_path):
    "Each row is `results_row` of the scan's own scores for that method, S/B and seed, with the chosen params."
    res, curves = scan_injections(_point, [0.0, 0.01, 0.02], [0, 1, 2], show_progress=False)
    assert len(res) == 18 and list(res.columns[-2:]) == ["s_over_b", "seed"]
    rows = scan_results_rows(res, curves, "wprime", "resonant", "tutorial", "15_resonant_search",
                             {"sr": [3300.0, 3700.0]}, ["flow_auc", "sic_1e3"])
    assert len(rows) == 18
    for r, (_, t) in zip(rows, res.iterrows()):
        y, s = curves[(t.s_over_b, t.seed)][t.method]
        params = {"sr": [3300.0, 3700.0], "flow_auc": t.flow_auc, "sic_1e3": t.sic_1e3}
        want = results_row(f"{t.method} (resonant)", f"wprime S/B={t.s_over_b:g}", y, s, "tutorial", int(t.seed),
                           t.seconds, params, "15_resonant_search")
        same = [json.dumps({k: v for k, v in d.items() if k != "time"}, sort_keys=True) for d in (r, want)]
        assert same[0] == same[1]
        assert r["auc"] == pytest.approx(t.auc) and r["max_sic"] == pytest.approx(t.max_sic)
    assert json.loads(rows[-1]["params"])["flow_auc"] == pytest.approx(0.7)
    assert rows[2]["signal"] == "wprime S/B=0" and rows[-1]["signal"] == "wprime S/B=0.02"
    table = append_results(rows, tmp_path / "r.csv")
    assert len(table) == 18 and set(RESULT_COLUMNS) <= set(table.columns)

def test_scan_plots():
    import matplotlib.pyplot as plt
    res, curves = scan_injections(_point, [0.0, 0.05], [0, 1], show_progress=False)
    axs = plot_scan_point(curves, 0.05, 1)
    assert len(axs) == 2 and len(axs[1].get_legend().get_texts()) == 2
    with pytest.raises(JetADError, match=r"no point \(0.03, 1\)"):
        plot_scan_point(curves, 0.03, 1)
    ax = plot_sic_scan(res)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["good", "random"]
    plt.close("all")


def _gauss_pair(n0=4000, n1=4000, shift=0.5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(0, 1, (n0, 1)), rng.normal(shift, 1, (n1, 1))


def test_default_classifier_is_a_snapshot_ensemble_of_the_last_epochs():
    a, b = _gauss_pair()
    clf = train_classifier(a, b, epochs=12, average_last=4, device="cpu")
    assert isinstance(clf, Snapshots) and len(clf.members) == 4
    x = np.linspace(-1, 1, 7)[:, None].astype(np.float32)
    members = np.mean([predict(m, x)["p"] for m in clf.members], axis=0)
    np.testing.assert_allclose(classify(clf, x), members, rtol=1e-6)


def test_previous_recipe_stays_reachable():
    a, b = _gauss_pair()
    clf = train_classifier(a, b, val_frac=0.2, epochs=6, batch_size=256, lr=1e-3, patience=2, average_last=1,
                           device="cpu")
    assert isinstance(clf, Classifier)


@pytest.mark.parametrize("n0,n1,w1", [(4000, 4000, 1.0), (8000, 2000, 1.0), (4000, 4000, 3.0)])
def test_hgb_recovers_the_density_ratio_trend(n0, n1, w1):
    a, b = _gauss_pair(n0, n1, seed=3)
    clf = train_hgb(a, b, None, np.full(len(b), w1), seed=1)
    x = np.linspace(-1, 1, 41)[:, None]
    p = classify(clf, x)
    slope, icpt = np.polyfit(x[:, 0], np.log(p / (1 - p)), 1)   # balanced classes: log ratio 0.5 x - 0.125
    assert 0.25 < slope < 0.75 and abs(icpt + 0.125) < 0.2, (slope, icpt)


def test_anomaly_scores_hgb_is_reproducible_and_finds_a_bump():
    rng = np.random.default_rng(5)
    ev = lambda x, s: Events(np.zeros((len(x), 0)), x, np.full(len(x), s))
    tmpl = ev(rng.normal(0, 1, (3000, 2)), False)
    data = Events.concat(ev(rng.normal(0, 1, (3000, 2)), False), ev(rng.normal(2.5, 0.3, (200, 2)), True))
    test = Events.concat(ev(rng.normal(0, 1, (1000, 2)), False), ev(rng.normal(2.5, 0.3, (300, 2)), True))
    s1 = anomaly_scores(tmpl, np.ones(3000), data, test, 3, seed=2, classifier="hgb")
    s2 = anomaly_scores(tmpl, np.ones(3000), data, test, 3, seed=2, classifier="hgb")
    np.testing.assert_array_equal(s1, s2)
    assert sic_summary(test.signal.astype(int), s1)["auc"] > 0.9
    with pytest.raises(JetADError, match="classifier"):
        anomaly_scores(tmpl, np.ones(3000), data, test, classifier="svm")


def test_noise_features_and_training_kwargs():
    ev = Events(np.ones((5, 1)), np.arange(10.0).reshape(5, 2), np.zeros(5, bool))
    out = add_noise_features(ev, 4, seed=0)
    assert out.x.shape == (5, 6) and np.array_equal(out.x[:, :2], ev.x) and np.array_equal(out.c, ev.c)
    np.testing.assert_array_equal(out.x, add_noise_features(ev, 4, seed=0).x)
    tk = training_kwargs(40, 10, 256, "cpu", classifier="hgb", clf_batch_size=512)
    assert tk["classifier"] == "hgb" and tk["clf_kwargs"] == {"epochs": 40, "device": "cpu", "batch_size": 512}


@pytest.mark.parametrize("scale,shift", [(1e-3, 0.0), (1e3, 50.0), (1.0, -100.0)])
def test_standardized_classifier_ignores_units(scale, shift):
    "With `standardize=True` (the default) an affine change of units leaves the trained function as it was."
    a, b = _gauss_pair(2000, 2000)
    x = np.linspace(-1, 1, 7)[:, None]
    ref = classify(train_classifier(a, b, epochs=4, device="cpu"), x.astype(np.float32))
    moved = train_classifier(scale * a + shift, scale * b + shift, epochs=4, device="cpu")
    np.testing.assert_allclose(classify(moved, (scale * x + shift).astype(np.float32)), ref, atol=2e-3)


def test_unstandardized_classifier_sees_the_units():
    "The test above can fail: without standardisation, inputs in units of 1e3 train a different function."
    a, b = _gauss_pair(2000, 2000)
    x = np.linspace(-1, 1, 7)[:, None]
    ref = classify(train_classifier(a, b, epochs=4, device="cpu", standardize=False), x.astype(np.float32))
    moved = train_classifier(1e3 * a, 1e3 * b, epochs=4, device="cpu", standardize=False)
    assert np.abs(classify(moved, (1e3 * x).astype(np.float32)) - ref).max() > 2e-3
