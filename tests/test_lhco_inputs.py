"""LHC Olympics high-level features file and CATHODE .npy arrays: round trips from the shipped events, bad input."""
import warnings

import awkward as ak
import numpy as np
import pandas as pd
import pytest

from jetad_nb import io
from jetad_nb.core import JetADError
from jetad_nb.core import data_dir
from jetad_nb.kinematics import boost_along
from jetad_nb.kinematics import to_ptetaphim
from jetad_nb.resonant import resonant_features

UNPICKLED = []


class Canary:
    "An object that records being unpickled."
    def __init__(self):
        self.alive = True

    def __setstate__(self, state):
        UNPICKLED.append(state)


@pytest.fixture(scope="module")
def events():
    "A few hundred shipped W' and QCD events (m_jj; m_j1, delta m, tau21_j1, tau21_j2), m_jj above m_j1 + m_j2."
    e = io.Events.concat(*(io.read_events_h5(data_dir() / "lhco_events.h5", k)[:300] for k in ("wprime", "qcd")))
    keep = e.c[:, 0] > 2 * e.x[:, 0] + e.x[:, 1] + 1.0
    assert keep.mean() > 0.9
    return e[keep]


def _jets(e, seed=0):
    "Two jets per event reproducing `e`: back to back in the dijet frame, random direction, boosted along z."
    rng = np.random.default_rng(seed)
    mjj, m1, m2 = e.c[:, 0], e.x[:, 0], e.x[:, 0] + e.x[:, 1]
    p = np.sqrt((mjj**2 - (m1 + m2) ** 2) * (mjj**2 - (m1 - m2) ** 2)) / (2 * mjj)
    n = rng.normal(size=(len(e), 3))
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    v = [np.concatenate([np.sqrt(p**2 + m**2)[:, None], s * p[:, None] * n], 1) for m, s in ((m1, 1), (m2, -1))]
    y = rng.uniform(-1.5, 1.5, len(e))
    light, heavy = (boost_along(u, 3, y) for u in v)
    swap = (rng.random(len(e)) < 0.5) & (e.x[:, 1] > 0)     # the lighter jet is j2 in half the rows
    pick = lambda u, w: np.where(swap.reshape((-1,) + (1,) * (np.ndim(u) - 1)), w, u)
    jets = [(light, m1, e.x[:, 2]), (heavy, m2, e.x[:, 3])]
    cols = {}
    for j, ((u, m, t), (w, mw, tw)) in enumerate([(jets[0], jets[1]), (jets[1], jets[0])], start=1):
        u, m, t = pick(u, w), pick(m, mw), pick(t, tw)
        tau1 = np.where(t > 0, rng.uniform(0.2, 1.0, len(e)), 0.0)
        cols.update({f"pxj{j}": u[:, 1], f"pyj{j}": u[:, 2], f"pzj{j}": u[:, 3], f"mj{j}": m,
                     f"tau1j{j}": tau1, f"tau2j{j}": t * tau1, f"tau3j{j}": 0.5 * t * tau1})
    return pd.DataFrame({**cols, "label": e.signal.astype(np.float64)})


def test_features_file_round_trip(events, tmp_path):
    _jets(events).to_hdf(tmp_path / "f.h5", key="df", format="fixed")
    assert io.detect_format(tmp_path / "f.h5") == "lhco_features"
    got = io.read_lhco_features(tmp_path / "f.h5")
    np.testing.assert_allclose(got.c, events.c, rtol=1e-9)
    np.testing.assert_allclose(got.x, events.x, rtol=1e-9, atol=1e-6)
    np.testing.assert_array_equal(got.signal, events.signal)
    assert events.signal.any() and not events.signal.all()


def test_features_file_matches_resonant_features(events, tmp_path):
    df = _jets(events, seed=1)
    df.to_hdf(tmp_path / "f.h5", key="df", format="fixed")
    got = io.read_lhco_features(tmp_path / "f.h5")
    jets = {k: [] for k in ("pt", "eta", "phi", "mass", "tau1", "tau2", "event", "rank", "label")}
    for j in (1, 2):
        c = df[[f"pxj{j}", f"pyj{j}", f"pzj{j}", f"mj{j}"]].to_numpy()
        pt, eta, phi, _ = to_ptetaphim(c[:, 0], c[:, 1], c[:, 2], np.sqrt((c**2).sum(1)))
        for k, v in dict(pt=pt, eta=eta, phi=phi, mass=c[:, 3], tau1=df[f"tau1j{j}"], tau2=df[f"tau2j{j}"],
                         event=np.arange(len(df)), rank=np.full(len(df), j - 1), label=df["label"]).items():
            jets[k].append(np.asarray(v))
    no_constituents = {k: np.zeros(0) for k in ("pt", "eta", "phi", "energy")}
    table = io.jet_table({k: np.concatenate(v) for k, v in jets.items()}, no_constituents, np.zeros(2 * len(df), int))
    ref = resonant_features(table, min_lead_pt=0.0, max_abs_eta=np.inf)
    np.testing.assert_allclose(got.c, ref.c, rtol=1e-6)
    np.testing.assert_allclose(got.x, ref.x, rtol=1e-6, atol=1e-4)    # the jet table stores float32
    np.testing.assert_array_equal(got.signal, ref.signal)


def test_features_file_without_label(events, tmp_path):
    _jets(events).drop(columns="label").to_hdf(tmp_path / "b.h5", key="df", format="fixed")
    got = io.read_lhco_features(tmp_path / "b.h5")
    assert not got.signal.any()
    np.testing.assert_allclose(got.x, events.x, rtol=1e-9, atol=1e-6)


def test_object_column_is_refused_unread(events, tmp_path, monkeypatch):
    df = _jets(events[:3])
    df["note"] = [Canary(), Canary(), Canary()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df.to_hdf(tmp_path / "o.h5", key="df", format="fixed")
    import pickle
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("unpickled"))
    with pytest.raises(JetADError, match=r"columns \['note'\] are not numeric") as err:
        io.read_lhco_features(tmp_path / "o.h5")
    assert "\n" not in str(err.value)
    assert UNPICKLED == []


def test_cathode_round_trip(events, tmp_path):
    a = np.concatenate([events.c / 1000, events.x[:, :2] / 1000, events.x[:, 2:], events.signal[:, None]], 1)
    np.save(tmp_path / "innerdata_test.npy", a)
    assert io.detect_format(tmp_path / "innerdata_test.npy") == "cathode_npy"
    got = io.read_cathode_arrays(tmp_path / "innerdata_test.npy")
    np.testing.assert_allclose(got.c, events.c, rtol=1e-12)
    np.testing.assert_allclose(got.x, events.x, rtol=1e-12, atol=1e-9)
    np.testing.assert_array_equal(got.signal, events.signal)


def test_bad_inputs(tmp_path):
    np.save(tmp_path / "wide.npy", np.zeros((4, 7)))
    with pytest.raises(JetADError, match=r"shape \(4, 7\), dtype float64; expected a numeric \(n, 6\) array"):
        io.read_cathode_arrays(tmp_path / "wide.npy")
    np.save(tmp_path / "flat.npy", np.zeros(6))
    with pytest.raises(JetADError, match=r"shape \(6,\)"):
        io.read_cathode_arrays(tmp_path / "flat.npy")
    np.save(tmp_path / "obj.npy", np.array([[Canary()] * 6], dtype=object), allow_pickle=True)
    with pytest.raises(JetADError, match="not a numeric .npy array"):
        io.read_cathode_arrays(tmp_path / "obj.npy")
    assert UNPICKLED == []
    for reader in (io.read_lhco_features, io.read_cathode_arrays):
        with pytest.raises(JetADError, match="no such file"):
            reader(tmp_path / "missing")
    with pytest.raises(JetADError, match="not a readable HDF5 file"):
        io.read_lhco_features(tmp_path / "wide.npy")
    pd.DataFrame({"mj1": [1.0]}).to_hdf(tmp_path / "m.h5", key="df", format="fixed")
    with pytest.raises(JetADError, match="missing columns"):
        io.read_lhco_features(tmp_path / "m.h5")


def test_particle_file_still_lhco(tmp_path):
    pd.DataFrame(np.zeros((2, 7))).to_hdf(tmp_path / "p.h5", key="df", format="fixed")
    assert io.detect_format(tmp_path / "p.h5") == "lhco"



def _raw_rows(path, n):
    "The first n rows of an LHCO file's block0_values, decompressed here with blosc2 (not through PyTables)."
    import blosc2
    import h5py
    with h5py.File(path, "r") as f:
        ds = f["df/block0_values"]
        out = []
        for r in range(0, n, ds.chunks[0]):
            raw = ds.id.read_direct_chunk((r, 0))[1]
            out.append(np.frombuffer(blosc2.decompress(raw), dtype=ds.dtype).reshape(ds.chunks))
    return np.concatenate(out)[:n]


@pytest.fixture(scope="module")
def black_box(shared, tmp_path_factory):
    "A black-box file (2100 columns, no label) and its master key, made from the first 300 shared R&D events."
    rows = _raw_rows(shared / "lhco/events_anomalydetection_tiny.h5", 300)
    d = tmp_path_factory.mktemp("bb")
    pd.DataFrame(rows[:, :-1]).to_hdf(d / "bb.h5", key="df", format="fixed", complevel=5, complib="blosc")
    (d / "bb.masterkey").write_text("".join(f"{int(v)}\n" for v in rows[:, -1]))
    pd.DataFrame(rows).to_hdf(d / "rnd.h5", key="df", format="fixed")
    return d


def test_black_box_reads_like_rnd(black_box):
    rnd = io.read_lhco(black_box / "rnd.h5", show_progress=False)
    bb = io.read_lhco(black_box / "bb.h5", show_progress=False)
    keyed = io.read_lhco(black_box / "bb.h5", master_key=black_box / "bb.masterkey", show_progress=False)
    assert io.lhco_layout(black_box / "bb.h5") == {"events": 300, "particles": 700, "kind": "black box (no label)"}
    assert io.lhco_layout(black_box / "rnd.h5")["kind"] == "R&D (label last)"
    assert bb.pt.tolist() == rnd.pt.tolist() and set(bb.label.tolist()) == {-1}
    assert keyed.label.tolist() == rnd.label.tolist() and ak.any(rnd.label == 1)


def test_black_box_jetad_info(black_box, capsys):
    from jetad_nb.cli import main
    assert main(["info", str(black_box / "bb.h5")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("lhco black box (no label)") and "'signal frac': nan" in out


def test_black_box_as_search_events(black_box):
    "The resonant search reads a black box as unlabelled events; its master key restores the truth of the R&D read."
    from jetad_nb.resonant import read_search_events
    bkg, sig = read_search_events(black_box / "bb.h5")
    kb, ks = read_search_events(black_box / "bb.h5", master_key=black_box / "bb.masterkey")
    rb, rs = read_search_events(black_box / "rnd.h5")
    assert len(sig) == 0 and len(bkg) == len(rb) + len(rs) and len(rs) > 0
    np.testing.assert_allclose(ks.x, rs.x)
    np.testing.assert_allclose(kb.c, rb.c)
