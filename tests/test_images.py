"""Jet-image steps on hand-made jets: phi wrap-around, one-constituent and empty jets, invariants of each step,
and agreement of the compiled path with the step functions."""
import awkward as ak
import numpy as np
import pytest

from jetad_nb.core import JetADError
from jetad_nb.images import PDGID_CLASSES
from jetad_nb.images import centre_constituents
from jetad_nb.images import channel_names
from jetad_nb.images import fit_channel_stats
from jetad_nb.images import flatten_jets
from jetad_nb.images import flip_constituents
from jetad_nb.images import jet_images
from jetad_nb.images import pf_class
from jetad_nb.images import pixelise
from jetad_nb.images import rotate_constituents
from jetad_nb.io import jet_table


def make_jets(cons, jet_phi=None, **extra):
    "Jet table from a list of jets, each a list of (pt, eta, phi)."
    counts = [len(c) for c in cons]
    flat = np.array([x for c in cons for x in c], dtype=float).reshape(-1, 3)
    n = len(cons)
    jphi = np.array([c[0][2] if c else 0.0 for c in cons]) if jet_phi is None else np.asarray(jet_phi, float)
    jets = dict(pt=np.array([sum(x[0] for x in c) for c in cons]), eta=np.zeros(n), phi=jphi, mass=np.zeros(n),
                event=np.arange(n), rank=np.zeros(n))
    return jet_table(jets, dict(pt=flat[:, 0], eta=flat[:, 1], phi=flat[:, 2], energy=flat[:, 0], **extra), counts)

def random_jets(n, seed, phi0=3.1):
    rng = np.random.default_rng(seed)
    cons = []
    for k in rng.integers(1, 60, n):
        cons.append(
            list(
                zip(
                    rng.exponential(20, k),
                    rng.normal(0, 0.25, k),
                    (rng.normal(phi0, 0.25, k) + np.pi) % (2 * np.pi) - np.pi,
                )
            )
        )
    return make_jets(cons)

def test_straddling_phi_pi_same_as_shifted_jet():
    # the same jet placed across phi = +-pi and around phi = 0 gives the same image
    cons = [(40, 0.0, -0.05), (30, 0.3, 0.1), (20, -0.2, 0.25), (10, 0.1, -0.3)]
    at0 = make_jets([cons])
    wrapped = make_jets([[(p, e, (f + np.pi + np.pi) % (2 * np.pi) - np.pi) for p, e, f in cons]])
    assert np.ptp(ak.to_numpy(ak.flatten(wrapped.constituents.phi))) > 6  # really straddles
    np.testing.assert_allclose(
        jet_images(wrapped, show_progress=False), jet_images(at0, show_progress=False), atol=1e-6
    )

def test_one_constituent_jet_is_a_central_pixel():
    im = jet_images(make_jets([[(100, 0.7, -2.0)]]), npix=40, extent=1.0, show_progress=False)
    assert im.shape == (1, 1, 40, 40)
    assert im[0, 0, 20, 20] == pytest.approx(1.0) and np.count_nonzero(im) == 1

def test_empty_jet_and_empty_table_raise():
    with pytest.raises(JetADError, match="jet 1 has no constituents"):
        jet_images(make_jets([[(10, 0, 0)], []]), show_progress=False)
    with pytest.raises(JetADError, match="empty table"):
        jet_images(make_jets([[(10, 0, 0)]])[:0], show_progress=False)

def test_bad_parameters_raise():
    jets = make_jets([[(10, 0, 0)]])
    with pytest.raises(JetADError, match="channels"):
        jet_images(jets, channels=["pt", "mass"], show_progress=False)
    with pytest.raises(JetADError, match="npix"):
        jet_images(jets, npix=0, show_progress=False)
    with pytest.raises(JetADError, match="stats"):
        jet_images(jets, channels=["dz"], show_progress=False)

def test_unit_sum_and_upper_right():
    jets = random_jets(200, 0)
    im = jet_images(jets, show_progress=False)[:, 0]
    np.testing.assert_allclose(im.sum(axis=(1, 2)), 1, rtol=1e-5)
    assert im[:, 20:, 20:].sum() > im[:, :20, :20].sum()

def test_steps_invariants():
    flat, jet, counts = flatten_jets(random_jets(300, 1))
    n = len(counts)
    w = flat["pt"].astype(float)
    x, y = centre_constituents(flat["eta"], flat["phi"], w, jet, np.full(n, 3.1))
    np.testing.assert_allclose(np.bincount(jet, w * x, n), 0, atol=1e-9)
    np.testing.assert_allclose(np.bincount(jet, w * y, n), 0, atol=1e-9)
    xr, yr = rotate_constituents(x, y, w, jet, n)
    np.testing.assert_allclose(np.hypot(xr, yr), np.hypot(x, y), atol=1e-12)  # a rotation
    np.testing.assert_allclose(np.bincount(jet, w * xr * yr, n), 0, atol=1e-9)
    assert np.all(np.bincount(jet, w * yr * yr, n) >= np.bincount(jet, w * xr * xr, n) - 1e-12)
    xf, yf = flip_constituents(xr, yr, w, jet, counts)
    first = np.r_[0, np.cumsum(counts)[:-1]]
    hard = np.array([f + np.argmax(w[f:f + c]) for f, c in zip(first, counts)])
    assert np.all(xf[hard] >= 0) and np.all(yf[hard] >= 0)

@pytest.mark.parametrize(
    "centre,rotate,flip", [(True, True, True), (False, False, False), (True, False, True), (True, True, False)]
)
def test_compiled_path_matches_steps(centre, rotate, flip):
    jets = random_jets(400, 2)
    flat, jet, counts = flatten_jets(jets)
    n = len(counts)
    w = flat["pt"].astype(float)
    if centre:
        x, y = centre_constituents(flat["eta"], flat["phi"], w, jet, ak.to_numpy(jets.phi))
    else:
        x, y = (
            flat["eta"] - ak.to_numpy(jets.eta)[jet],
            (flat["phi"].astype(float) - ak.to_numpy(jets.phi).astype(float)[jet] + np.pi) % (2 * np.pi) - np.pi,
        )
    if rotate:
        x, y = rotate_constituents(x, y, w, jet, n)
    if flip:
        x, y = flip_constituents(x, y, w, jet, counts)
    ref = pixelise(x, y, w / ak.to_numpy(jets.pt)[jet], jet, n, 32, 0.8)
    got = jet_images(jets, 32, 0.8, centre=centre, rotate=rotate, flip=flip, normalise=False, show_progress=False)[:, 0]
    np.testing.assert_allclose(got, ref, atol=1e-6)

def test_multichannel_values():
    # one charged pion with d0/d0err = 10 (clipped to 5), one photon, one neutron
    jets = make_jets(
        [[(50, 0, 0), (30, 0.3, 0), (20, -0.3, 0)]],
        pdgid=np.array([211, 22, 2112]),
        charge=np.array([1, 0, 0]),
        d0=np.array([1.0, np.nan, np.nan]),
        d0err=np.array([0.1, np.nan, np.nan]),
        dz=np.array([0.2, np.nan, np.nan]),
        dzerr=np.array([0.1, np.nan, np.nan]),
    )
    stats = {"d0": {"mean": 1.0, "std": 2.0}, "dz": {"mean": 0.0, "std": 1.0}}
    im = jet_images(
        jets,
        32,
        0.8,
        ["pdgid", "dz", "d0", "pt"],
        stats=stats,
        rotate=False,
        flip=False,
        centre=False,
        show_progress=False,
    )[0]
    names = channel_names(["pt", "d0", "dz", "pdgid"])
    assert names[:3] == ["pt", "d0", "dz"] and im.shape == (11, 32, 32)
    assert im[1].sum() == pytest.approx((5 - 1.0) / 2.0) and im[2].sum() == pytest.approx(2.0)
    counts = {names[3 + k]: im[3 + k].sum() for k in range(8)}
    assert counts == {
        "pdgid-211": 0,
        "pdgid-13": 0,
        "pdgid-11": 0,
        "pdgid+11": 0,
        "pdgid+13": 0,
        "pdgid+22": 1,
        "pdgid+130": 1,
        "pdgid+211": 1,
    }

def test_fit_channel_stats():
    rng = np.random.default_rng(3)
    k = 5000
    jets = make_jets(
        [list(zip(np.full(k, 1.0), rng.normal(0, 0.1, k), rng.normal(0, 0.1, k)))],
        pdgid=np.full(k, 211),
        charge=np.ones(k),
        d0=rng.normal(0.5, 1, k),
        d0err=np.ones(k),
        dz=rng.normal(0, 1, k),
        dzerr=np.ones(k),
    )
    st = fit_channel_stats(jets)
    assert st["d0"]["mean"] == pytest.approx(0.5, abs=0.05) and st["d0"]["std"] == pytest.approx(1, abs=0.05)
    with pytest.raises(JetADError, match="no charged"):
        fit_channel_stats(make_jets([[(10, 0, 0)]], pdgid=np.array([22]), charge=np.array([0])))

def test_pf_class_covers_classes():
    assert set(pf_class([11, -11, 13, -13, 22, 211, -211, 130], [-1, 1, -1, 1, 0, 1, -1, 0])) == set(PDGID_CLASSES)

def test_load_jets_reads_through_read_jets(tmp_path):
    from jetad_nb.core import data_dir
    from jetad_nb.images import load_jets
    from jetad_nb.io import Events
    from jetad_nb.io import write_events_h5
    t = load_jets(data_dir() / "qcd.root", n_leading=1)       # a Delphes-format file, read with its reader
    assert len(t) > 0 and ak.all(t["rank"] == 0)
    f = write_events_h5(tmp_path / "e.h5", {"a": Events(np.zeros((1, 1)), np.zeros((1, 1)), np.zeros(1, bool))})
    with pytest.raises(JetADError, match="an events file, not a jet file"):
        load_jets(f)

@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("field", [0, 1, 2])
def test_non_finite_constituent_raises_naming_the_jet(bad, field):
    # issue 19: a NaN/inf constituent used to give an all-zero image without a word
    cons = [[(10, 0, 0), (5, 0.1, 0.1)], [(8, 0.2, 0.0), (3, -0.1, 0.2)], [(6, 0, 0)]]
    c = list(cons[1][1])
    c[field] = bad
    cons[1][1] = tuple(c)
    jets = make_jets(cons, jet_phi=[0.0, 0.0, 0.0])
    with pytest.raises(JetADError, match=r"jet 1 has a non-finite pt, eta or phi \(1 such jets\)"):
        jet_images(jets, show_progress=False)
    from jetad_nb.images import finite_jets
    ok = finite_jets(jets)
    assert ok.tolist() == [True, False, True]
    im = jet_images(jets[ok], show_progress=False)
    np.testing.assert_allclose(im.sum(axis=(1, 2, 3)), 1, atol=1e-5)   # the rest are fine images

def test_non_finite_jet_axis_raises():
    jets = make_jets([[(10, 0, 0)], [(5, 0.1, 0.1)]], jet_phi=[0.0, np.nan])
    with pytest.raises(JetADError, match="jet 1 has a non-finite"):
        jet_images(jets, show_progress=False)

def test_ip_outliers_clip_or_drop():
    far = dict(pdgid=np.array([211, 211]), charge=np.array([1, 1]), d0=np.array([0.1, 3.0]), d0err=np.array([0.1, 0.1]),
               dz=np.array([0.1, 0.1]), dzerr=np.array([0.1, 0.1]))
    jets = make_jets([[(10, 0, 0), (5, 0.1, 0.1)]], **far)
    clip, drop = fit_channel_stats(jets, "clip"), fit_channel_stats(jets, "drop")
    assert clip["d0"]["mean"] == pytest.approx(3.0) and drop["d0"]["mean"] == pytest.approx(1.0)   # (1+5)/2 vs 1
    assert (clip["outliers"], drop["outliers"]) == ("clip", "drop")
    unit = {"mean": 0.0, "std": 1.0}
    im_clip = jet_images(jets, channels=["d0"], stats={"d0": unit, "outliers": "clip"}, show_progress=False)
    im_drop = jet_images(jets, channels=["d0"], stats={"d0": unit, "outliers": "drop"}, show_progress=False)
    assert sorted(im_clip[im_clip != 0].tolist()) == pytest.approx([1.0, 5.0])   # 30 sigma clipped to 5
    assert im_drop[im_drop != 0].tolist() == pytest.approx([1.0])   # gone (the stats carry the rule)
    with pytest.raises(JetADError, match="outliers"):
        fit_channel_stats(jets, "remove")

def test_first_passing_jet_selection():
    from jetad_nb.images import select_jets
    jets = jet_table(
        dict(pt=np.array([600.0, 550, 520, 700, 650, 505]), eta=np.zeros(6), phi=np.zeros(6),
             mass=np.array([90.0, 170, 175, 80, 60, 160]), event=np.array([0, 0, 1, 2, 2, 2]),
             rank=np.array([0, 1, 0, 0, 1, 2])),
        dict(pt=np.ones(6), eta=np.zeros(6), phi=np.zeros(6), energy=np.ones(6)), [1] * 6)
    first = select_jets(jets, 500, mass_window=(153, 193), first_passing=True)
    assert first.pt.tolist() == [550.0, 520.0, 505.0]   # subleading and third jets when the leading fail the window
    assert select_jets(jets, 500, mass_window=(153, 193), n_leading=1).pt.tolist() == [520.0]
    assert len(select_jets(jets, 500, first_passing=True)) == 3   # without a window: the leading jets

def test_towers_need_delphes_root():
    from jetad_nb.core import data_dir
    from jetad_nb.images import load_jets
    tw = load_jets(data_dir() / "qcd.root", constituents="Tower", min_pt=200, n_leading=1)
    ef = load_jets(data_dir() / "qcd.root", min_pt=200, n_leading=1)
    assert len(tw) == len(ef) and ak.all(ak.flatten(tw.constituents.pdgid) == 0)
    assert not np.array_equal(ak.num(tw.constituents).to_numpy(), ak.num(ef.constituents).to_numpy())
    with pytest.raises(JetADError, match="needs a Delphes ROOT file"):
        load_jets(data_dir() / "qcd.h5", constituents="Tower")
