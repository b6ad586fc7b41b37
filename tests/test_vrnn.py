"""Method D: the alignment algorithm on hand-made jets (each invariant), masked batching, VRNN training."""
import numpy as np
import pytest
import torch

from jetad_nb.core import JetADError
from jetad_nb.io import jet_table
from jetad_nb.kinematics import delta_phi
from jetad_nb.train import fit
from jetad_nb.train import predict
from jetad_nb.vae_constituents import padded_p4
from jetad_nb.vrnn import VRNN
from jetad_nb.vrnn import _align
from jetad_nb.vrnn import align_jets
from jetad_nb.vrnn import alignment_steps
from jetad_nb.vrnn import greedy_order
from jetad_nb.vrnn import pt_eta_phi
from jetad_nb.vrnn import transformed_score


def jets(n_jets, seed, spread=0.3, min_count=1, max_count=60):
    rng = np.random.default_rng(seed)
    counts = rng.integers(min_count, max_count, n_jets)
    eta0, phi0 = rng.uniform(-2.2, 2.2, n_jets), rng.uniform(-np.pi, np.pi, n_jets)
    phi0[:2] = [np.pi - 0.01, -np.pi + 0.02]               # axes on both sides of the phi = +-pi seam
    rep = np.repeat(np.arange(n_jets), counts)
    pt = rng.exponential(20, counts.sum()) + 0.3
    eta = eta0[rep] + rng.normal(0, spread, counts.sum())
    phi = delta_phi(phi0[rep] + rng.normal(0, spread, counts.sum()), 0.0)   # wrapped into [-pi, pi)
    table = jet_table(dict(pt=np.bincount(rep, pt), eta=eta0, phi=phi0, mass=np.zeros(n_jets), event=np.arange(n_jets),
                           rank=np.zeros(n_jets, int)), dict(pt=pt, eta=eta, phi=phi, energy=pt * np.cosh(eta)), counts)
    return table, counts

def final_frame(table, m0=0.25, e0=1.0, max_dr=1.0):
    p4, mask = padded_p4(table, None)
    rec = []
    _align(p4, mask, 20, m0, e0, max_dr, 10, rec)
    return rec[-2][1], rec[-2][2]    # the frame after the iterated Delta R requirement, and the kept mask

@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("m0,e0", [(0.25, 1.0), (0.4, 2.5)])
def test_frame_invariants(seed, m0, e0):
    t, counts = jets(40, seed, min_count=3)
    p, keep = final_frame(t, m0, e0)
    j = (p * keep[..., None]).sum(1)
    ok = keep.sum(1) >= 2
    np.testing.assert_allclose(j[ok, 0], e0, rtol=1e-9)                                         # reference energy
    np.testing.assert_allclose(np.sqrt(j[ok, 0]**2 - (j[ok, 1:]**2).sum(1)), m0, rtol=1e-7)      # reference mass
    np.testing.assert_allclose(j[ok, 2:], 0, atol=1e-9)                                         # eta = 0 and phi = 0
    pt, eta, phi = pt_eta_phi(p)
    assert (np.hypot(eta, phi)[keep] < 1.0).all()  # Delta R < 1 for every kept one
    hard = np.argmax(np.where(keep, pt, -1), axis=1)  # hardest at the fixed angle (+phi)
    r = np.arange(len(p))
    np.testing.assert_allclose(eta[r, hard][ok], 0, atol=1e-9)
    assert (phi[r, hard][ok] >= -1e-12).all()

@pytest.mark.parametrize("seed", range(3))
def test_sequence_rules(seed):
    t, counts = jets(50, seed, spread=0.5)
    x, n, idx = align_jets(t)
    assert (n >= 3).all() and (n <= 20).all()
    np.testing.assert_array_equal(idx, np.sort(idx))
    assert set(np.nonzero(counts < 3)[0]).isdisjoint(idx)                                       # short jets dropped
    for xi, ni in zip(x, n):
        assert (xi[ni:] == 0).all()                                                               # padding at the end
        assert np.hypot(xi[:ni, 1], xi[:ni, 2]).max() < 1.0
        assert xi[1, 1] >= 0                                                                      # eta flip
        assert np.argmax(xi[:ni, 0]) == 0  # starts at the hardest
        for k in range(1, ni - 1):                                                                # greedy pT * dR order
            d = np.hypot(xi[k:ni, 1] - xi[k - 1, 1], xi[k:ni, 2] - xi[k - 1, 2]) * xi[k:ni, 0]
            assert np.argmax(d) == 0 or d[0] == pytest.approx(d.max())
        assert (xi[:ni, 0] > 0).all() and xi[:ni, 0].max() < 1.5  # pT fractions (scalar sum may exceed 1)

def test_kt_selection_keeps_largest_kt():
    t, counts = jets(20, 5, min_count=25, max_count=60)
    p, keep = final_frame(t)
    pt, eta, phi = pt_eta_phi(p)
    kt = np.where(keep, (pt * np.hypot(eta, phi))**2, -1)
    x, n, idx = align_jets(t)
    for row, i in enumerate(idx):
        chosen = np.sort((x[row, :n[row], 0] * np.hypot(x[row, :n[row], 1], x[row, :n[row], 2]))**2)
        best = np.sort(kt[i][keep[i]])[::-1][:20]
        np.testing.assert_allclose(
            np.sort(chosen * (np.hypot(*(p[i][keep[i]].sum(0)[1:3]))) ** 2), np.sort(best), rtol=1e-6
        )

def test_rotation_and_boost_invariance():
    "Rotating the whole event in phi or boosting it along the beam gives the same sequences."
    t, counts = jets(30, 9, min_count=3)
    x, n, idx = align_jets(t)
    c = t.constituents
    import awkward as ak
    moved = ak.with_field(t, ak.zip({"pt": c.pt, "eta": c.eta + 0.7, "phi": delta_phi(c.phi + 1.9, 0.0),
                                    "energy": c.pt * np.cosh(c.eta + 0.7)}), "constituents")
    x2, n2, idx2 = align_jets(moved)
    np.testing.assert_array_equal(idx, idx2)
    np.testing.assert_array_equal(n, n2)
    np.testing.assert_allclose(x, x2, atol=2e-4)

def test_chunks_and_errors():
    t, _ = jets(40, 2, min_count=3)
    a, b = align_jets(t), align_jets(t, chunk_size=7)
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, atol=1e-6)
    with pytest.raises(JetADError, match="at least one jet"):
        align_jets(t[:0])
    with pytest.raises(JetADError, match="n_const"):
        align_jets(t, n_const=1)
    with pytest.raises(JetADError, match="m0, e0"):
        align_jets(t, m0=2.0, e0=1.0)
    tiny, _ = jets(5, 3, min_count=1, max_count=3)
    with pytest.raises(JetADError, match="no jet has 3"):
        align_jets(tiny)
    steps = alignment_steps(t, 0)
    assert len(steps) == 5 and all(len(s[1]) == len(s[2]) == len(s[3]) for s in steps)

def test_greedy_order_hand_case():
    pt = np.array([[1.0, 5.0, 2.0, 0.0]])
    eta = np.array([[0.0, 0.0, 1.0, 0.0]])
    phi = np.array([[1.0, 0.0, 0.0, 0.0]])
    mask = np.array([[True, True, True, False]])
    # start at the hardest (index 1); pT*dR from it: index 0 -> 1*1, index 2 -> 2*1: take 2; then 0; padding last
    np.testing.assert_array_equal(greedy_order(pt, eta, phi, mask), [[1, 2, 0, 3]])

def test_vrnn_masking_batching_and_training():
    torch.manual_seed(0)
    v = VRNN(n_steps=20).eval()
    x = torch.rand(6, 20, 3)
    n = torch.tensor([3, 20, 7, 12, 20, 4])
    x2 = x.clone()
    for i, k in enumerate(n):
        x2[i, k:] = -5.0
    a, b = v.score(x, n), v.score(x2, n)
    torch.testing.assert_close(a["kl"], b["kl"])
    torch.testing.assert_close(a["mse"], b["mse"])
    for i in range(6):
        torch.testing.assert_close(v.score(x[i:i + 1], n[i:i + 1])["kl"], a["kl"][i:i + 1], rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(a["score"], 1 - torch.exp(-a["kl"]))
    # the loss is finite and decreases on a tiny set
    g = torch.Generator().manual_seed(1)
    xs = torch.rand(256, 20, 3, generator=g)
    ls = torch.randint(3, 21, (256,), generator=g)
    m = VRNN().set_step_weights(xs, ls)
    h = fit(
        m,
        (xs, ls),
        (xs[:64], ls[:64]),
        epochs=8,
        batch_size=64,
        lr=3e-3,
        grad_clip=10.0,
        patience=None,
        show_progress=False,
        device="cpu",
    )
    assert np.isfinite(h.train_loss).all() and h.train_loss[-1] < 0.7 * h.train_loss[0]
    s = predict(m, (xs, ls))
    assert np.isfinite(s["kl"]).all() and (s["kl"] >= 0).all()
    np.testing.assert_allclose(transformed_score([0.0, 2.0], 2.0), [1.0, 0.5])

def test_step_weights_are_mean_pt_fractions():
    x = torch.zeros(3, 4, 3)
    x[:, :, 0] = torch.tensor([[0.5, 0.3, 0.2, 0.0], [0.7, 0.3, 0.0, 0.0], [0.4, 0.3, 0.2, 0.1]])
    v = VRNN(n_steps=4).set_step_weights(x, torch.tensor([3, 2, 4]))
    torch.testing.assert_close(v.step_weights, torch.tensor([1.6 / 3, 0.3, 0.2, 0.1]))


# --- issue 18: the original recipe's pieces and the original file format ----------------------------------------
from jetad_nb.core import shared_data_dir  # noqa: E402
from jetad_nb.images import load_jets  # noqa: E402
from jetad_nb.vrnn import ORIGINAL_RECIPE  # noqa: E402
from jetad_nb.vrnn import auc_monitor  # noqa: E402


@pytest.mark.parametrize("seed", range(3))
def test_original_alignment_variant(seed):
    t, counts = jets(40, seed, spread=0.5, min_count=25)
    x, n, idx = align_jets(t, reframe=True, rotate_on="pt")
    for i in range(len(x)):
        s = x[i, :n[i]]
        assert np.hypot(s[:, 1], s[:, 2]).max() < 1.0
        assert np.argmax(s[:, 0]) == 0                                     # the sequence starts at the hardest pT
        np.testing.assert_allclose(s[0, 1], 0, atol=1e-9)                   # ... rotated to eta = 0
        assert s[0, 2] >= -1e-12
    x0, n0, _ = align_jets(t)
    assert (n <= n0).all()


def test_original_networks_train_and_score():
    torch.manual_seed(0)
    x, n = torch.rand(120, 20, 3), torch.randint(3, 21, (120,))
    m = VRNN(arch="original")
    assert m.rnn.bias_ih is None and len(m.encoder.body) == 4 and len(m.prior.body) == 2
    mon = auc_monitor((x[:40], n[:40]), (x[40:80] * 2, n[40:80]), every=1)
    h = fit(m, (x, n), (x[:40], n[:40]), epochs=2, lr=3e-3, batch_size=64, show_progress=False, device="cpu",
            after_epoch=mon)
    assert np.isfinite(h.train_loss).all() and [e for e, _ in mon.aucs] == [1, 2]
    kl = predict(m, (x, n))["kl"]
    t = transformed_score(kl, kl, on="score")
    np.testing.assert_allclose((1 - t).mean(), 0.5, rtol=1e-6)        # the training mean of 1 - exp(-KL) maps to 0.5
    assert ORIGINAL_RECIPE["arch"] == "original" and ORIGINAL_RECIPE["lr"] == 1e-5


def test_trains_end_to_end_on_the_original_vrnn_file():
    sd = shared_data_dir()
    if sd is None or not (sd / "vrnn").is_dir():
        pytest.skip("../shared/data/vrnn not found: the original VRNN file is not available")
    t = load_jets(sd / "vrnn/events_anomalydetection_VRNN_2Prong_Signal.hdf5", min_pt=0.0, n_leading=2)
    for kw in ({}, dict(reframe=True, rotate_on="pt")):
        x, n, idx = align_jets(t, **kw)
        assert len(x) > 50 and (n >= 3).all()
        m = VRNN(arch="original" if kw else "ours").set_step_weights(x[:60], n[:60])
        h = fit(m, (x[:60], n[:60]), (x[60:], n[60:]), epochs=3, lr=1e-3, batch_size=32, grad_clip=10,
                show_progress=False, device="cpu")
        assert np.isfinite(h.val_loss).all()
        assert np.isfinite(predict(m, (x[60:], n[60:]))["kl"]).all()
