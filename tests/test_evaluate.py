"""Metrics against hand-computed cases and a direct O(n^2) / brute-force computation."""
import json

import numpy as np
import pytest

from jetad_nb.core import JetADError
from jetad_nb.evaluate import RESULT_COLUMNS
from jetad_nb.evaluate import append_results
from jetad_nb.evaluate import auc
from jetad_nb.evaluate import fpr_floor
from jetad_nb.evaluate import mass_vs_score
from jetad_nb.evaluate import max_sic
from jetad_nb.evaluate import read_results
from jetad_nb.evaluate import rejection_at
from jetad_nb.evaluate import results_row
from jetad_nb.evaluate import roc_curve
from jetad_nb.evaluate import sculpting
from jetad_nb.evaluate import sic_curve
from jetad_nb.evaluate import threshold_at_rejection


def brute_auc(y, s):
    sig, bkg = s[y == 1], s[y == 0]
    d = sig[:, None] - bkg[None, :]
    return ((d > 0).sum() + 0.5 * (d == 0).sum()) / d.size

def brute_rejection(y, s, eff):
    "Smallest eps_b over cuts score >= t that keep eps_s >= eff, by trying every threshold."
    best = np.inf
    for t in np.unique(s):
        es, eb = (s[y == 1] >= t).mean(), (s[y == 0] >= t).mean()
        if es >= eff - 1e-12:
            best = min(best, eb)
    return 1 / best if best > 0 else np.inf

@pytest.mark.parametrize("seed", range(5))
def test_auc_and_rejection_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(300), np.ones(80)]
    s = np.round(np.r_[rng.normal(0, 1, 300), rng.normal(1, 1, 80)], 1)  # rounding makes ties
    assert auc(y, s) == pytest.approx(brute_auc(y, s))
    for e in (0.1, 0.3, 0.5):
        assert rejection_at(y, s, [e])[0] == pytest.approx(brute_rejection(y, s, e))

def test_hand_cases():
    assert auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
    assert auc([0, 1, 0, 1], [1, 1, 1, 1]) == 0.5
    fpr, tpr, thr = roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    assert list(zip(tpr, fpr))[1:] == [(0.5, 0.0), (0.5, 0.5), (1.0, 0.5), (1.0, 1.0)]
    # perfect separation: rejection infinite, SIC limited by the floor
    y = np.r_[np.zeros(1000), np.ones(100)]
    s = np.r_[np.zeros(1000), np.ones(100)]
    assert np.isinf(rejection_at(y, s, [0.5])[0])

def test_sic_floor():
    assert fpr_floor(100) == pytest.approx(0.0625) and fpr_floor(100, 0.2) == pytest.approx(0.25)
    y = np.r_[np.zeros(1000), np.ones(100)]
    s = np.r_[np.arange(1000) / 1000, 2 + np.arange(100) / 100]
    tpr, sic = sic_curve(y, s)
    fl = fpr_floor(1000)
    # every signal jet passes before any background: best cut keeps all signal and the first 7 background jets
    assert max_sic(y, s) == pytest.approx(1 / np.sqrt(7 / 1000))
    assert max_sic(y, s) == pytest.approx(sic.max()) and len(tpr) == len(sic)
    assert 7 / 1000 >= fl > 6 / 1000

def test_errors():
    with pytest.raises(JetADError, match="same length"):
        auc([0, 1], [0.1])
    with pytest.raises(JetADError, match="only 0"):
        auc([0, 2], [0.1, 0.2])
    with pytest.raises(JetADError, match="both"):
        auc([1, 1], [0.1, 0.2])
    with pytest.raises(JetADError, match="NaN"):
        auc([0, 1], [np.inf, 0.2])

def test_sculpting_and_mass_vs_score():
    rng = np.random.default_rng(0)
    m = rng.uniform(0, 300, 100_000)
    s = m + rng.normal(0, 30, m.size)  # a score correlated with mass
    passed = sculpting(s, m, (10, 100))
    assert len(passed[10]) == pytest.approx(10_000, abs=2) and len(passed[100]) == pytest.approx(1000, abs=2)
    assert passed[100].mean() > passed[10].mean() > m.mean()
    assert (s > threshold_at_rejection(s, 10)).mean() == pytest.approx(0.1, abs=1e-4)
    mv = mass_vs_score(s, m, 5)
    assert np.all(np.diff(mv.mass) > 0) and mv.n.sum() == m.size

def test_results_table_roundtrip(tmp_path):
    y = np.r_[np.zeros(20), np.ones(20)]
    s = np.r_[np.zeros(20), np.ones(20)] + np.linspace(0, 0.5, 40)
    p = tmp_path / "r.csv"
    append_results([results_row("m", "top", y, s, seed=k, params={"k": k}) for k in range(3)], p)
    df = append_results(results_row("m", "top", y, s, seed=1, params={"k": 10}), p)
    assert len(df) == 3 and list(df.columns) == RESULT_COLUMNS
    back = read_results(p)
    assert json.loads(back[back.seed == 1].params.iloc[0]) == {"k": 10}
    assert back.auc.iloc[0] == pytest.approx(1.0)
    assert not list(tmp_path.glob("*.tmp-jetad"))
    assert len(read_results(tmp_path / "none.csv")) == 0
    (tmp_path / "junk.csv").write_bytes(b"\x00\x01\x02")
    with pytest.raises(JetADError, match="junk.csv"):
        read_results(tmp_path / "junk.csv")
