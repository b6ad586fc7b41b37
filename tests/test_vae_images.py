"""Method B models: per-jet scores independent of the batch, KL against a direct formula, selection helpers."""
import awkward as ak
import numpy as np
import pytest
import torch

from jetad_nb.core import JetADError
from jetad_nb.io import jet_table
from jetad_nb.train import predict
from jetad_nb.vae_images import ImageVAE
from jetad_nb.vae_images import fit_vae
from jetad_nb.vae_images import lepton_clean
from jetad_nb.vae_images import method_b_jets
from jetad_nb.vae_images import pixel_scale
from jetad_nb.vae_images import trim_radius


def test_scores_do_not_depend_on_batch_companions():
    torch.manual_seed(0)
    v = ImageVAE(3, 4, 6).eval()
    x = torch.randn(40, 3, 32, 32)
    one = {k: t.detach().numpy() for k, t in v.score(x[5:6]).items()}
    for bs in (1, 8, 40):
        s = predict(v, x.numpy(), batch_size=bs)
        np.testing.assert_allclose(s["kl"][5:6], one["kl"], rtol=1e-4)
        np.testing.assert_allclose(s["mse"][5:6], one["mse"], rtol=1e-4)
    # shuffling the other jets does not change a jet's score either
    perm = torch.randperm(40)
    inv = torch.argsort(perm)
    np.testing.assert_allclose(predict(v, x[perm].numpy())["kl"][inv.numpy()], predict(v, x.numpy())["kl"], rtol=1e-4)

def test_kl_matches_formula():
    torch.manual_seed(1)
    v = ImageVAE(1, 2, 4).eval()
    x = torch.randn(3, 1, 32, 32)
    with torch.no_grad():
        mu, logvar = v.encode(x)
        direct = [0.5 * float((m ** 2 + lv.exp() - 1 - lv).sum()) for m, lv in zip(mu, logvar)]
        np.testing.assert_allclose(v.score(x)["kl"].numpy(), direct, rtol=1e-5)

def test_loss_uses_beta_and_scale():
    torch.manual_seed(2)
    x = torch.rand(4, 2, 32, 32)
    scale = np.array([2.0, 0.5], np.float32)
    a = ImageVAE(2, 4, 6, scale=scale, beta=1.0).eval()
    b = ImageVAE(2, 4, 6, scale=scale, beta=3.0).eval()
    b.load_state_dict(a.state_dict())
    mse, kl, _ = a.parts(x)
    np.testing.assert_allclose(
        (b.loss(x) - a.loss(x)).detach().numpy(), (2 * kl / x[0].numel()).detach().numpy(), rtol=1e-3, atol=1e-7
    )
    with pytest.raises(JetADError, match="beta"):
        ImageVAE(1, beta=0.0)
    np.testing.assert_allclose(
        pixel_scale(np.ones((5, 2, 4, 4), np.float32) * np.array([3.0, 0.0])[None, :, None, None]), [3.0, 1.0]
    )

def test_vae_trains_with_annealing():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x = np.zeros((256, 1, 32, 32), np.float32)
    x[np.arange(256), 0, 16, rng.integers(12, 20, 256)] = 1.0
    v = ImageVAE(1, 2, 6, width=8, scale=pixel_scale(x))
    h = fit_vae(
        v,
        x,
        x[:64],
        kl_warmup=2,
        epochs=6,
        batch_size=32,
        lr=3e-3,
        optimizer="adamw",
        weight_decay=1e-3,
        device="cpu",
        show_progress=False,
        patience=None,
    )
    assert v.kl_factor == 1.0 and len(h.val_loss) == 6 and h.best_val < h.val_loss[0]

def test_selection_helpers():
    cons = [[(100, 0, 3.1), (10, 0.9, 3.1), (5, 0, -3.1)], [(100, 0, 3.1), (30, 0.1, 3.1)]]
    pdg = [211, 22, -211, 211, 13]
    f = np.array([x for c in cons for x in c], float)
    t = jet_table(
        dict(
            pt=np.array([115.0, 130.0]),
            eta=np.zeros(2),
            phi=np.full(2, 3.1),
            mass=np.ones(2),
            event=np.arange(2),
            rank=np.zeros(2),
        ),
        dict(pt=f[:, 0], eta=f[:, 1], phi=f[:, 2], energy=f[:, 0], pdgid=np.array(pdg), charge=np.sign(pdg)),
        [3, 2],
    )
    assert ak.num(trim_radius(t, 0.8).constituents).tolist() == [2, 2]
    assert len(lepton_clean(t)) == 1 and len(lepton_clean(t, min_lepton_pt=40)) == 2
    # the jet with the muon fails the lepton veto; the photon at dR 0.9 falls outside the radius
    sel = method_b_jets(t, jet_radius=0.8, min_pt=100.0)
    assert sel.pt.tolist() == [115.0] and ak.num(sel.constituents).tolist() == [2]
    assert len(method_b_jets(t, min_pt=200.0)) == 0

def test_cross_entropy_option():
    from jetad_nb.vae_images import ImageAE
    from jetad_nb.vae_images import recon_error
    torch.manual_seed(0)
    x = torch.rand(4, 2, 32, 32)
    p = x / x.sum((2, 3), keepdim=True)
    exact = recon_error(torch.log(p), x, "ce")
    np.testing.assert_allclose(exact, -(p * torch.log(p)).sum((2, 3)).mean(1), rtol=1e-5)
    # shifting the logits changes nothing; a worse guess costs more
    np.testing.assert_allclose(recon_error(torch.log(p) + 3.0, x, "ce"), exact, rtol=1e-5)
    assert (recon_error(torch.log(p.flip(2)), x, "ce") > exact).all()
    v = ImageVAE(2, 4, 6, recon="ce").eval()
    s = v.score(x)
    assert sorted(s) == ["ce", "kl"] and torch.isfinite(s["ce"]).all()
    assert sorted(ImageAE(2, recon="ce").score(x)) == ["ce"]
    with pytest.raises(JetADError, match="recon"):
        ImageVAE(2, recon="bce")

def test_two_number_latent_trains():
    torch.manual_seed(0)
    x = np.random.default_rng(0).random((40, 1, 32, 32)).astype(np.float32)
    v = ImageVAE(1, 2, 1, width=4)
    assert v.encode(torch.as_tensor(x[:3]))[0].shape == (3, 2, 1, 1)
    h = fit_vae(v, x[:32], x[32:], kl_warmup=1, epochs=2, batch_size=8, device="cpu", show_progress=False)
    assert len(h.train_loss) == 2 and np.isfinite(h.best_val)
    assert v.decoder(torch.zeros(5, 2, 1, 1)).shape == (5, 1, 32, 32)

def test_recipes_table():
    from jetad_nb.ae import recipe_settings
    from jetad_nb.vae_images import RECIPES
    want = dict(align="axis", rms_scale=False, ip_outliers="drop", batch_size=25, kl_warmup=0)
    assert recipe_settings("original", RECIPES) == want
    assert recipe_settings("ours", RECIPES, batch_size=25)["batch_size"] == 25
    with pytest.raises(JetADError, match="unknown knobs"):
        recipe_settings("ours", RECIPES, lr=1.0)
