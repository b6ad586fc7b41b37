"""Method C: distance correlation against a direct O(n^2) computation, preprocessing invariants, loss modes."""
import numpy as np
import pytest
import torch

from jetad_nb.core import JetADError
from jetad_nb.io import jet_table
from jetad_nb.kinematics import delta_phi
from jetad_nb.vae_constituents import MODES
from jetad_nb.vae_constituents import ConstituentVAE
from jetad_nb.vae_constituents import constituent_inputs
from jetad_nb.vae_constituents import distance_correlation
from jetad_nb.vae_constituents import fit_constituent_vae
from jetad_nb.vae_constituents import jet_p4
from jetad_nb.vae_constituents import padded_p4
from jetad_nb.vae_constituents import paired_outliers
from jetad_nb.vae_constituents import robust_scaler


def direct_dcorr2(x, y):
    "Szekely's squared distance correlation written out with explicit loops (the reference)."
    n = len(x)
    a = [[abs(x[i] - x[j]) for j in range(n)] for i in range(n)]
    b = [[abs(y[i] - y[j]) for j in range(n)] for i in range(n)]
    def centre(d):
        row = [sum(r) / n for r in d]
        grand = sum(row) / n
        return [[d[i][j] - row[i] - row[j] + grand for j in range(n)] for i in range(n)]
    A, B = centre(a), centre(b)
    def dcov(P, Q):
        return sum(P[i][j] * Q[i][j] for i in range(n) for j in range(n)) / n**2
    return dcov(A, B) / (dcov(A, A) * dcov(B, B)) ** 0.5

@pytest.mark.parametrize("case", range(6))
def test_dcorr_matches_direct_computation(case):
    rng = np.random.default_rng(case)
    n = int(rng.integers(5, 40))
    x = rng.normal(size=n)
    y = [rng.normal(size=n), x**2 + 0.1 * rng.normal(size=n), np.exp(x), rng.exponential(size=n), -x, np.sin(3 * x)][
        case
    ]
    got = float(distance_correlation(torch.tensor(x), torch.tensor(y)))
    assert got == pytest.approx(direct_dcorr2(list(x), list(y)), rel=1e-9, abs=1e-12)

def test_weighted_dcorr_equals_duplicated_samples():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=12), rng.normal(size=12)
    w = rng.integers(1, 4, size=12)
    dup_x, dup_y = np.repeat(x, w), np.repeat(y, w)
    got = float(distance_correlation(torch.tensor(x), torch.tensor(y), torch.tensor(w, dtype=torch.float64)))
    assert got == pytest.approx(direct_dcorr2(list(dup_x), list(dup_y)), rel=1e-9)

def test_dcorr_properties_and_gradient():
    rng = np.random.default_rng(0)
    x, y = torch.tensor(rng.normal(size=300)), torch.tensor(rng.normal(size=300))
    assert float(distance_correlation(x, y)) == pytest.approx(float(distance_correlation(y, x)), rel=1e-12)
    assert float(distance_correlation(x, 5 * y - 1)) == pytest.approx(float(distance_correlation(x, y)), rel=1e-9)
    assert 0 <= float(distance_correlation(x, y)) < 0.03
    xr = x.clone().requires_grad_(True)
    distance_correlation(xr, xr**2).backward()
    assert torch.isfinite(xr.grad).all() and xr.grad.abs().sum() > 0
    with pytest.raises(JetADError, match="same length"):
        distance_correlation(x, y[:5])

def random_jets(n_jets, seed):
    "Jets of massless constituents spread around random axes (phi near +-pi included)."
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 45, n_jets)
    eta0, phi0 = rng.uniform(-2, 2, n_jets), rng.uniform(-np.pi, np.pi, n_jets)
    phi0[:2] = [np.pi - 0.01, -np.pi + 0.02]
    rep = np.repeat(np.arange(n_jets), counts)
    pt = rng.exponential(30, counts.sum()) + 0.5
    eta = eta0[rep] + rng.normal(0, 0.3, counts.sum())
    phi = delta_phi(phi0[rep] + rng.normal(0, 0.3, counts.sum()), 0.0)   # wrapped into [-pi, pi)
    jets = dict(
        pt=np.bincount(rep, pt),
        eta=eta0,
        phi=phi0,
        mass=np.zeros(n_jets),
        event=np.arange(n_jets),
        rank=np.zeros(n_jets, int),
    )
    return jet_table(jets, dict(pt=pt, eta=eta, phi=phi, energy=pt * np.cosh(eta)), counts), counts

def minkowski_mass(v):
    return np.sqrt(np.clip(v[..., 0]**2 - (v[..., 1:]**2).sum(-1), 0, None))

@pytest.mark.parametrize("seed", range(4))
def test_preprocessing_invariants(seed):
    t, counts = random_jets(60, seed)
    n = int(counts.max())
    x = constituent_inputs(t, n_const=n).reshape(60, n, 4).astype(np.float64)
    raw, mask = padded_p4(t, n)
    s = x.sum(1)
    tol = 1e-3 * s[:, 0]
    assert (np.abs(s[:, 2]) < tol).all() and (np.abs(s[:, 3]) < tol).all()         # jet along +x: phi = 0, eta = 0
    assert (s[:, 1] > 0).all()
    np.testing.assert_allclose(minkowski_mass(s), minkowski_mass(jet_p4(t)), rtol=1e-3, atol=1e-2)   # Lorentz invariant
    np.testing.assert_allclose(minkowski_mass(x), 0, atol=2e-2 * x[..., 0].max())  # constituents stay massless
    assert (x[~mask] == 0).all() and (x[mask][:, 0] > 0).all()  # padding stays zero
    # principal axis along y: E-weighted off-diagonal moment ~ 0 and the y-spread is the larger one
    pn = np.linalg.norm(x[..., 1:], axis=-1)
    pn[pn == 0] = 1
    u, v, e = x[..., 2] / pn, x[..., 3] / pn, x[..., 0]
    syy, szz, syz = (e * u * u).sum(1), (e * v * v).sum(1), (e * u * v).sum(1)
    big = counts > 1
    assert (np.abs(syz[big]) < 1e-3 * (syy[big] + szz[big]) + 1e-9).all() and (syy[big] >= szz[big] - 1e-9).all()
    hard = np.argmax(np.where(mask, x[..., 0], -1), axis=1)  # highest energy has py >= 0
    assert (x[np.arange(60), hard, 2] >= -1e-6).all()

def test_chunking_and_truncation():
    t, counts = random_jets(50, 7)
    np.testing.assert_allclose(constituent_inputs(t, 20, chunk_size=7), constituent_inputs(t, 20), rtol=1e-6, atol=1e-4)
    x = constituent_inputs(t, 5).reshape(50, 5, 4)
    assert (x[counts >= 5][:, :, 0] > 0).all()
    assert (x[counts < 5][:, -1] == 0).all()

def test_robust_scaler():
    x = np.random.default_rng(0).normal(3, 2, size=(20001, 3))
    x[:, 2] = 0
    c, s = robust_scaler(x)
    np.testing.assert_allclose(c[:2], 3, atol=0.05)
    np.testing.assert_allclose(s[:2], 2 * 1.349, rtol=0.03)
    assert s[2] == 1 and c[2] == 0

def test_loss_modes_match_formulas():
    torch.manual_seed(0)
    m = ConstituentVAE(n_in=12, hidden=(16, 8), latent=3, beta=0.7, lam=1.5, margin=0.4).eval()
    x, o, mass = torch.randn(32, 12), 3 * torch.randn(32, 12), torch.rand(32)
    mse, kl, _ = m.parts(x)
    mse_o, kl_o, _ = m.parts(o)
    base = mse + 0.7 * kl
    expect = {
        "beta": base,
        "oe_sigmoid": base - 1.5 * torch.sigmoid(mse_o - mse),
        "oe_margin": base + 1.5 * torch.relu(mse - mse_o + 0.4),
        "kl_oe": base + 1.5 * torch.relu(kl - kl_o + 0.4),
        "disco": base + 1.5 * distance_correlation(base, mass),
    }
    for mode in MODES:
        m.mode = mode
        torch.testing.assert_close(m.loss(x, mass if mode == "disco" else o), expect[mode])
        torch.testing.assert_close(m.loss(x), base)
    # KL is averaged over latent dimensions
    mu, lv = m.encoder((x - m.centre) / m.scale).chunk(2, dim=1)
    torch.testing.assert_close(kl, 0.5 * (mu**2 + lv.exp() - 1 - lv).mean(1))

def test_disco_training_lowers_mass_correlation():
    "With lam = 50 the trained loss is much less correlated with the mass than with lam = 0."
    rng = np.random.default_rng(0)
    mass = rng.exponential(1.0, 1200).astype(np.float32)
    x = rng.normal(size=(1200, 8)).astype(np.float32)
    x[:, 0] = mass * 3
    x[:, 1] = -mass * 2
    out = {}
    for lam in (0.0, 50.0):
        torch.manual_seed(0)
        m = ConstituentVAE(n_in=8, hidden=(32, 16), latent=1, beta=0.1, mode="disco", lam=lam)
        fit_constituent_vae(
            m,
            x[:1000],
            x[1000:],
            mass=mass,
            epochs=15,
            batch_size=100,
            patience=None,
            show_progress=False,
            device="cpu",
        )
        m.eval()
        with torch.no_grad():
            mse, kl, _ = m.parts(torch.tensor(x[1000:]))
        out[lam] = float(distance_correlation(mse.double(), torch.tensor(mass[1000:], dtype=torch.float64)))
    assert out[50.0] < 0.5 * out[0.0], out

def test_bad_inputs():
    with pytest.raises(JetADError, match="mode"):
        ConstituentVAE(mode="nope")
    with pytest.raises(JetADError, match="beta, lam"):
        ConstituentVAE(beta=-1)
    with pytest.raises(JetADError, match="outliers"):
        paired_outliers(5, np.zeros((0, 3)))
    m = ConstituentVAE(n_in=4, hidden=(4,), latent=1, mode="disco")
    with pytest.raises(JetADError, match="mass"):
        fit_constituent_vae(m, np.zeros((10, 4), np.float32), np.zeros((5, 4), np.float32), mass=np.zeros(10))
    t, _ = random_jets(3, 0)
    with pytest.raises(JetADError, match="n_const"):
        constituent_inputs(t, 0)


# --- issue 18: the original recipe's pieces -------------------------------------------------------------------
import h5py  # noqa: E402

from jetad_nb.vae_constituents import ORIGINAL_LAM_SCHEDULE  # noqa: E402
from jetad_nb.vae_constituents import align_mean_direction  # noqa: E402
from jetad_nb.vae_constituents import anneal_factor  # noqa: E402
from jetad_nb.vae_constituents import pt_scale  # noqa: E402
from jetad_nb.vae_constituents import read_vae_jet  # noqa: E402


def original_weights(start, annealtime, cycles, epochs):
    "The original's annealing functions (tf2/train.py, train_oe_resample.py, train_disco.py), transcribed loop by loop."
    w, out = 0.0, []
    for e in range(epochs):
        for c in range(cycles):
            a = start + 2 * c * annealtime
            if e == a and c > 0:
                w = 0.0
            if a < e < a + annealtime:
                w = min(w + 1.0 / (annealtime - 1), 1.0)
        if e >= start + (2 * cycles - 1) * annealtime:
            w = 1.0
        out.append(w)
    return out


@pytest.mark.parametrize("kind", ["kl", "oe", "disco"])
def test_anneal_factor_matches_the_original_schedules(kind):
    start, half, cycles = {"kl": (0, 5, 3), "oe": (10, 5, 3), "disco": (10, 10, 2)}[kind]
    kw = {"kl": dict(cycle=10, n_cycles=3), **ORIGINAL_LAM_SCHEDULE}[kind]
    ref = original_weights(start, half, cycles, 80)
    np.testing.assert_allclose([anneal_factor(e, **kw) for e in range(80)], ref, atol=1e-12)


def test_mean_direction_alignment_is_a_rotation_about_the_axis():
    rng = np.random.default_rng(3)
    p = np.zeros((5, 8, 4))
    p[..., 1] = rng.uniform(50, 100, (5, 8))
    p[..., 2:] = rng.normal(0, 10, (5, 8, 2))
    p[..., 0] = np.linalg.norm(p[..., 1:], axis=-1)
    mask = np.ones((5, 8), bool)
    mask[0, 5:] = False
    r = align_mean_direction(p * mask[..., None], mask)
    np.testing.assert_allclose(r[..., :2], (p * mask[..., None])[..., :2])
    pm = p * mask[..., None]
    np.testing.assert_allclose(np.linalg.norm(r[..., 2:], axis=-1), np.linalg.norm(pm[..., 2:], axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        u, v = np.where(mask, r[..., 2] / r[..., 1], 0), np.where(mask, r[..., 3] / r[..., 1], 0)   # ~ phi, eta
        w = np.where(mask, r[..., 0] / np.hypot(u, v).clip(1e-12), 0)
    assert (np.abs((w * v).sum(1)) < 0.05 * np.abs((w * u).sum(1))).all()
    assert ((w * u).sum(1) > 0).all()     # along +phi


def test_pt_scale_gives_unit_jet_pt():
    x = np.random.default_rng(0).normal(size=(6, 20)).astype(np.float32)
    v = pt_scale(x).reshape(6, 5, 4).sum(1)
    np.testing.assert_allclose(np.hypot(v[:, 1], v[:, 2]), 1, rtol=1e-5)


def write_vae_jet(path, key, rows, labels=None, event_level=False):
    with h5py.File(path, "w") as f:
        if event_level:
            f["objs/jets/constituents"] = np.stack([rows, rows * 0.5], axis=1)
        else:
            f[key] = rows
        if labels is not None:
            f["labels"] = labels


@pytest.mark.parametrize("key", ["table", "constituents", "jet1", "event"])
def test_read_vae_jet_layouts(tmp_path, key):
    rng = np.random.default_rng(1)
    e = rng.uniform(500, 700, (7, 30))
    rows = np.zeros((7, 120))
    rows[:, 0::4], rows[:, 1::4] = e, e           # massless constituents along x: jet pT = sum of E
    rows[:, 40:] = 0                               # 10 constituents, zero-padded to 30
    rows[:, 0] = rows[:, 1] = np.linspace(30, 90, 7)    # jets' pT from 50 * 10 + ... spread
    labels = np.arange(7) % 2 if key == "jet1" else None
    write_vae_jet(tmp_path / "f.h5", key, rows, labels, event_level=key == "event")
    r = read_vae_jet(tmp_path / "f.h5", n_const=20)
    np.testing.assert_allclose(r["x"], rows[:, :80].astype(np.float32))
    np.testing.assert_allclose(r["pt"], rows[:, 1::4].sum(1))
    np.testing.assert_allclose(r["mass"], 0, atol=1e-3)
    assert (r["labels"] is None) == (key != "jet1")
    lo, hi = np.sort(r["pt"])[[1, 4]]
    w = read_vae_jet(tmp_path / "f.h5", n_const=40, pt_window=(lo, hi))
    assert len(w["x"]) == 3 and w["x"].shape[1] == 160 and (w["pt"] > lo).all() and (w["pt"] <= hi).all()


def test_read_vae_jet_rejects_other_files(tmp_path):
    with h5py.File(tmp_path / "x.h5", "w") as f:
        f["table"] = np.zeros((3, 7))
    with pytest.raises(JetADError, match="4 x constituents"):
        read_vae_jet(tmp_path / "x.h5")
    with pytest.raises(JetADError):
        read_vae_jet(tmp_path / "missing.h5")


def test_lstm_variant_and_per_dim_kl_oe_train():
    x = np.random.default_rng(0).normal(size=(120, 16)).astype(np.float32)
    m = ConstituentVAE(n_in=16, latent=3, mode="kl_oe", lam=1.0, arch="lstm", kl_oe_per_dim=True)
    h = fit_constituent_vae(m, x[:80], x[80:], outliers=3 * x[:10], lr_steps=[1], epochs=2, batch_size=40,
                            show_progress=False, device="cpu", patience=None)
    assert len(h.train_loss) == 2 and np.isfinite(h.val_loss).all()
