"""Links, matching by angle, FastJet clustering and N-subjettiness (jetad_nb.clustering)."""
import awkward as ak
import numpy as np
import pytest

from jetad_nb import clustering
from jetad_nb.core import JetADError


def test_match_by_dr_phi_wrap_and_nearest():
    lj, lc = clustering.match_by_dr(ak.Array([[0.0, 0.0], []]), ak.Array([[3.0, -1.0], []]),
                                    ak.Array([[0.0, 0.0, 0.0], [1.0]]), ak.Array([[-3.1, -0.5, 1.5], [0.0]]), r=0.9)
    assert lj.tolist() == [[0, 1], []] and lc.tolist() == [[0, 1], []]

@pytest.mark.parametrize("n", [1, 2, 3])
def test_nsubjettiness_n_prong(n):
    # n hard, well-separated prongs: tau_n ~ 0 while tau_{n-1} is large
    rng = np.random.default_rng(n)
    centres = (
        [(0.5 * np.cos(2 * np.pi * k / n), 0.5 * np.sin(2 * np.pi * k / n)) for k in range(n)] if n > 1 else [(0, 0)]
    )
    eta = np.concatenate([c[0] + rng.normal(0, 0.01, 10) for c in centres])
    phi = np.concatenate([c[1] + rng.normal(0, 0.01, 10) for c in centres])
    pt = np.full(len(eta), 10.0)
    jet = ak.Array([{"pt": pt, "eta": eta, "phi": phi, "energy": pt * np.cosh(eta)}])
    tau = clustering.nsubjettiness(jet, n_max=4)[0]
    assert tau[n - 1] < 0.03
    if n > 1:
        assert tau[n - 2] > 0.2

def test_match_links_agree_with_match_by_dr():
    rng = np.random.default_rng(0)
    n_j, n_c = rng.integers(0, 4, 50), rng.integers(0, 30, 50)
    jet_eta = ak.unflatten(rng.uniform(-2, 2, n_j.sum()), n_j)
    jet_phi = ak.unflatten(rng.uniform(-3, 3, n_j.sum()), n_j)
    eta, phi = rng.uniform(-2.5, 2.5, n_c.sum()), rng.uniform(-np.pi, np.pi, n_c.sum())
    ev, lj, lc = clustering.match_links(jet_eta, jet_phi, eta, phi, n_c, 0.8)
    jj, cc = clustering.match_by_dr(jet_eta, jet_phi, ak.unflatten(eta, n_c), ak.unflatten(phi, n_c), 0.8)
    assert lj.tolist() == ak.flatten(jj).tolist() and lc.tolist() == ak.flatten(cc).tolist()
    assert ev.tolist() == np.repeat(np.arange(50), ak.num(jj)).tolist()
    assert (lc < n_c[ev]).all() and (lj < n_j[ev]).all()

@pytest.mark.parametrize("algorithm", ["antikt", "kt", "cambridge"])
def test_cluster_jets_keeps_every_constituent_once(algorithm):
    rng = np.random.default_rng(1)
    n = rng.integers(5, 40, 6)
    pt, eta, phi = rng.exponential(20, n.sum()) + 1, rng.normal(0, 1, n.sum()), rng.uniform(-3, 3, n.sum())
    cands = ak.unflatten(ak.zip({"pt": pt, "eta": eta, "phi": phi, "energy": pt * np.cosh(eta)}), n)
    jet, lj, lc = clustering.cluster_jets(cands, r=0.6, min_pt=0.0, algorithm=algorithm)
    for e in range(len(n)):                   # min_pt = 0: every constituent is in exactly one jet
        assert sorted(lc[e].tolist()) == list(range(n[e]))
        assert set(lj[e].tolist()) == set(range(len(jet["pt"][e])))

def test_cluster_jets_rejects_unknown_algorithm():
    cands = ak.Array([{"pt": [1.0], "eta": [0.0], "phi": [0.0], "energy": [1.0]}])
    with pytest.raises(JetADError, match="algorithm: expected one of"):
        clustering.cluster_jets(cands, algorithm="siscone")
