"""The shared training loop (fit), checkpoints and resume, the shared split (split_indices), and the convolutional AE's
per-jet scores."""
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from jetad_nb.ae import ConvAE
from jetad_nb.ae import elbow
from jetad_nb.core import JetADError
from jetad_nb.train import History
from jetad_nb.train import fit
from jetad_nb.train import load_best
from jetad_nb.train import predict
from jetad_nb.train import split_indices


class Quad(nn.Module):
    "y = a x^2 + b fitted by least squares: a tiny model with a known optimum."
    def __init__(self):
        super().__init__()
        self.p = nn.Parameter(torch.zeros(2))
    def loss(self, x, y):
        return (self.p[0] * x ** 2 + self.p[1] - y) ** 2
    def score(self, x, y):
        return {"err": self.loss(x, y)}

def data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n).astype(np.float32)
    return x, (2 * x ** 2 - 0.5 + rng.normal(0, 0.01, n)).astype(np.float32)

def test_fit_converges_and_keeps_best():
    torch.manual_seed(0)
    m = Quad()
    x, y = data()
    h = fit(
        m, (x, y), data(100, 1), epochs=60, batch_size=32, lr=0.05, device="cpu", show_progress=False, patience=None
    )
    assert isinstance(h, History) and len(h.train_loss) == 60 == len(h.val_loss) == len(h.epoch_time)
    np.testing.assert_allclose(m.p.detach().numpy(), [2, -0.5], atol=0.05)
    assert h.best_val == pytest.approx(min(h.val_loss)) and h.best_epoch == int(np.argmin(h.val_loss))

def test_early_stopping_stops_and_restores_best():
    # validation data from a different function: the validation loss rises while training proceeds
    torch.manual_seed(0)
    m = Quad()
    x, y = data()
    xv = np.linspace(-1, 1, 50).astype(np.float32)
    yv = np.zeros(50, np.float32)
    h = fit(m, (x, y), (xv, yv), epochs=100, batch_size=32, lr=0.05, patience=2, device="cpu", show_progress=False)
    assert h.stopped_early and len(h.train_loss) == h.best_epoch + 3
    # the model holds the best weights, not the last ones
    with torch.no_grad():
        assert m.loss(torch.as_tensor(xv), torch.as_tensor(yv)).mean().item() == pytest.approx(h.best_val, rel=1e-5)

def test_resume_equals_uninterrupted(tmp_path):
    x, y = data()
    v = data(64, 2)
    torch.manual_seed(3)
    a = Quad()
    full = fit(a, (x, y), v, epochs=8, batch_size=16, lr=0.01, device="cpu", show_progress=False, patience=None)
    ck = tmp_path / "q.pt"
    torch.manual_seed(3)
    b = Quad()
    fit(b, (x, y), v, epochs=5, batch_size=16, lr=0.01, device="cpu", show_progress=False, patience=None, checkpoint=ck)
    c = Quad()
    again = fit(
        c,
        (x, y),
        v,
        epochs=8,
        batch_size=16,
        lr=0.01,
        device="cpu",
        show_progress=False,
        patience=None,
        checkpoint=ck,
        resume=True,
    )
    np.testing.assert_allclose(again.train_loss, full.train_loss, rtol=1e-6)
    np.testing.assert_allclose(c.p.detach().numpy(), a.p.detach().numpy(), rtol=1e-6)
    assert not list(tmp_path.glob("*.tmp-jetad"))
    np.testing.assert_allclose(load_best(Quad(), ck).p.detach().numpy(), a.p.detach().numpy(), rtol=1e-6)

def test_bad_inputs():
    m = Quad()
    x, y = data()
    with pytest.raises(JetADError, match="same first dimension"):
        fit(m, (x, y[:3]), device="cpu")
    with pytest.raises(JetADError, match="optimizer"):
        fit(m, (x, y), optimizer="sgd", device="cpu")
    with pytest.raises(JetADError, match="training loss became"):
        fit(Quad(), (x, y * np.float32(1e30)), epochs=3, lr=1e6, device="cpu", show_progress=False)
    with pytest.raises(JetADError, match="checkpoint"):
        load_best(Quad(), "/nonexistent/ck.pt")

def test_convae_score_per_jet_independent_of_batch():
    torch.manual_seed(0)
    m = ConvAE(npix=16, channels=4, encoding_dim=3)
    x = torch.rand(64, 1, 16, 16)
    x = x / x.sum((2, 3), keepdim=True)
    alone = predict(m, x[:1].numpy(), batch_size=1)["mse"]
    mixed = predict(m, x.numpy(), batch_size=64)["mse"][:1]
    np.testing.assert_allclose(alone, mixed, rtol=1e-5)
    np.testing.assert_allclose(
        predict(m, x.numpy(), batch_size=7)["mse"], predict(m, x.numpy(), batch_size=64)["mse"], rtol=1e-5
    )

def test_convae_learns_a_fixed_image():
    torch.manual_seed(0)
    x = np.zeros((256, 1, 8, 8), np.float32)
    x[:, 0, 4, 4] = 1.0
    m = ConvAE(npix=8, channels=4, encoding_dim=2)
    h = fit(m, x, x[:32], epochs=30, batch_size=32, lr=1e-2, device="cpu", show_progress=False)
    assert h.val_loss[h.best_epoch] < 0.1 * h.val_loss[0]

def test_elbow():
    assert elbow([2, 4, 6, 8, 12, 16, 24, 32], [10, 6, 3, 1.2, 1.0, 0.95, 0.9, 0.88]) == 8
    assert elbow([4, 8], [2, 1]) == 8  # two points: the lower loss

def old_split(n, sizes, rng, fill_last):
    "The model notebooks' split before `split_indices` (08/09: sizes rounded down; 10/11: test takes the rest)."
    order = rng.permutation(n)
    s = list(sizes)
    if sum(s) > n:
        f = n / sum(s)
        s = [int(x * f) for x in s]
        if fill_last:
            s[-1] = n - sum(s[:-1])
    return np.split(order[:sum(s)], np.cumsum(s)[:-1])

@pytest.mark.parametrize("n", [2220, 2850, 2999, 5000, 28365])
@pytest.mark.parametrize("sizes,fill_last", [((800, 1500, 400), False), ((700, 1500, 400), False),
                                             ((1600, 400, 900), True), ((1500, 400, 800), True),
                                             ((20000, 4000, 6000), True)])
def test_split_indices_equals_the_notebooks_split(n, sizes, fill_last):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g_old, g_new = np.random.default_rng(0), np.random.default_rng(0)
        new = split_indices(n, dict(zip("abc", sizes)), g_new, fill_last=fill_last)
    for a, b in zip(old_split(n, sizes, g_old, fill_last), new):
        np.testing.assert_array_equal(a, b)
    assert g_old.random() == g_new.random()   # the generator advanced by the same draws
    if n == 28365 and sizes[0] == 20000:
        assert [len(i) for i in new] == [18910, 3782, 5673]   # the VRNN production run's split

def test_split_indices_seed_shrink_and_errors():
    a = split_indices(50, {"train": 30, "val": 10}, rng=7)
    b = split_indices(50, {"train": 30, "val": 10}, rng=np.random.default_rng(7))
    assert all(np.array_equal(x, y) for x, y in zip(a, b)) and not set(a[0]) & set(a[1])
    with pytest.warns(UserWarning, match="only 30 samples: split shrunk to train/val = 22/7"):
        assert [len(i) for i in split_indices(30, {"train": 30, "val": 10})] == [22, 7]
    with pytest.warns(UserWarning, match="train/val = 22/8"):
        assert [len(i) for i in split_indices(30, {"train": 30, "val": 10}, fill_last=True)] == [22, 8]
    with pytest.raises(JetADError, match=r"sizes: requested train/val = 30/10 \(40\), 30 available"):
        split_indices(30, {"train": 30, "val": 10}, shrink=False)
    with pytest.raises(JetADError, match="without an empty set"):
        split_indices(3, {"train": 30, "val": 1, "test": 1})
    for bad, what in [((0, {"a": 1}), "n: expected"), ((5, {}), "sizes: expected"), ((5, {"a": 1.5}), "sizes"),
                      ((5, {"a": -1}), "sizes"), ((5, {"a": 1}, "seed"), "rng: expected")]:
        with pytest.raises(JetADError, match=what):
            split_indices(*bad)
