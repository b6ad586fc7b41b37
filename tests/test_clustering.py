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

@pytest.mark.parametrize("axes", clustering.TAU_AXES)
@pytest.mark.parametrize("n", [1, 2, 3])
def test_nsubjettiness_n_prong(n, axes):
    # n hard, well-separated prongs: tau_n ~ 0 while tau_{n-1} is large
    rng = np.random.default_rng(n)
    centres = (
        [(0.5 * np.cos(2 * np.pi * k / n), 0.5 * np.sin(2 * np.pi * k / n)) for k in range(n)] if n > 1 else [(0, 0)]
    )
    eta = np.concatenate([c[0] + rng.normal(0, 0.01, 10) for c in centres])
    phi = np.concatenate([c[1] + rng.normal(0, 0.01, 10) for c in centres])
    pt = np.full(len(eta), 10.0)
    jet = ak.Array([{"pt": pt, "eta": eta, "phi": phi, "energy": pt * np.cosh(eta)}])
    tau = clustering.nsubjettiness(jet, n_max=4, axes=axes)[0]
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

@pytest.mark.parametrize("axes", clustering.TAU_AXES)
def test_nsubjettiness_axes_two_prongs(axes):
    # two hard prongs 0.8 apart with a little spray: tau21 small for every axes choice
    rng = np.random.default_rng(7)
    eta = np.r_[rng.normal(0, 0.02, 15), rng.normal(0.8, 0.02, 15)]
    phi = rng.normal(0, 0.02, 30)
    pt = np.full(30, 20.0)
    jet = ak.Array([{"pt": pt, "eta": eta, "phi": phi, "energy": pt * np.cosh(eta)}])
    tau = clustering.nsubjettiness(jet, n_max=3, axes=axes)[0]
    assert tau[1] / tau[0] < 0.1 and tau[0] == pytest.approx(0.4, abs=0.03)

def _diffuse_jets(n_jets, seed, phi0=0.0):
    rng = np.random.default_rng(seed)
    n = rng.integers(5, 80, n_jets)
    pt = rng.exponential(5.0, n.sum()) + 0.5
    eta, phi = rng.normal(0, 0.3, n.sum()), (phi0 + rng.normal(0, 0.3, n.sum()) + np.pi) % (2 * np.pi) - np.pi
    return ak.unflatten(ak.zip({"pt": pt, "eta": eta, "phi": phi, "energy": pt * np.cosh(eta)}), n)

def test_one_pass_never_above_its_seeds():
    jets = _diffuse_jets(300, 11)
    kt, op = (clustering.nsubjettiness(jets, 4, axes=a) for a in ("kt", "onepass_kt"))
    wta, opw = (clustering.nsubjettiness(jets, 4, axes=a) for a in ("wta_kt", "onepass_wta_kt"))
    assert (op <= kt + 1e-6).all()
    # a WTA seed sits exactly on a particle, where the Delta R regulator (1e-4) holds it: at most 1e-4 worse
    assert (opw <= wta + 1e-4).all()
    assert (op[:, 1:] < kt[:, 1:] - 1e-4).mean() > 0.5   # most diffuse jets: strictly smaller tau_2..4
    np.testing.assert_allclose(op[:, 0], opw[:, 0], atol=5e-3)   # tau_1: one minimum, whatever the seed

def test_one_pass_tau1_is_the_minimum():
    # tau_1 of the one-pass axis against a brute-force grid search of the single axis
    jets = _diffuse_jets(5, 12)
    tau1 = clustering.nsubjettiness(jets, 1, axes="onepass_kt")[:, 0]
    g = np.linspace(-0.6, 0.6, 241)
    for j in range(5):
        pt, eta, phi = (jets[j][k].to_numpy() for k in ("pt", "eta", "phi"))
        d = np.sqrt((eta[None, None] - g[:, None, None])**2 + (phi[None, None] - g[None, :, None])**2)
        best = (pt * d).sum(-1).min() / pt.sum()
        assert best - 5e-3 <= tau1[j] <= best + 1e-6   # the grid (step 0.005) is at most ~0.004 above the minimum

def test_one_pass_phi_wrap():
    # the same jets at phi = 0 and at phi = pi (straddling the wrap) have the same tau_N
    a, b = clustering.nsubjettiness(_diffuse_jets(50, 13), 3), clustering.nsubjettiness(_diffuse_jets(50, 13, np.pi), 3)
    np.testing.assert_allclose(a, b, atol=1e-6)

def test_nsubjettiness_rejects_unknown_axes():
    jet = ak.Array([{"pt": [1.0, 2.0], "eta": [0.0, 0.1], "phi": [0.0, 0.0], "energy": [1.0, 2.0]}])
    with pytest.raises(JetADError, match="axes: expected one of onepass_kt"):
        clustering.nsubjettiness(jet, axes="cambridge")
