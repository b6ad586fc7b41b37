"""Readers on the real external files, error paths, and round trips through the HDF5 cache and the Delphes writer."""
import awkward as ak
import h5py
import numpy as np
import pytest

from jetad_nb import clustering
from jetad_nb import io
from jetad_nb.core import JetADError


# ---------------------------------------------------------------- real files
def test_delphes_tth_fatjets_and_matching_closure(shared):
    t = io.read_delphes(shared / "delphes/ttH_10events.root", r=0.8)
    assert len(t) == 6
    assert np.all((t.pt > 216) & (t.pt < 404))
    assert not np.isnan(t.tau2.to_numpy()).any()        # FatJet.Tau[5] is read
    pt_sum, m_sum = io.constituent_sum(t)                # matched constituents rebuild Delphes' own jets
    np.testing.assert_allclose(pt_sum, t.pt.to_numpy(), atol=0.5)
    np.testing.assert_allclose(m_sum, t.mass.to_numpy(), atol=2.0)
    assert {"met", "ht"} <= set(t.fields)

def test_delphes_tth_towers(shared):
    t = io.read_delphes(shared / "delphes/ttH_10events.root", constituents="Tower", r=0.8)
    assert ak.all(ak.num(t.constituents) > 5)
    assert ak.all(ak.flatten(t.constituents.pdgid) == 0)

def test_delphes_ttbar_reclusters_without_fatjet(shared):
    t = io.read_delphes(shared / "delphes/ttbar_10events.root", r=1.0, min_pt=100)
    assert len(t) > 0 and ak.all(t.pt >= 100)
    assert ak.all(ak.flatten(t.constituents.pt) > 0)     # zero-pT placeholders dropped
    tau = np.stack([t[f"tau{i}"].to_numpy() for i in range(1, 6)], axis=1)
    assert np.isfinite(tau).all() and (np.diff(tau, axis=1) <= 1e-6).all()   # tau_N falls with N
    pt_sum, _ = io.constituent_sum(t)
    np.testing.assert_allclose(pt_sum, t.pt.to_numpy(), rtol=1e-3)          # FastJet's own constituents

def test_delphes_selection_and_leading(shared):
    all_ = io.read_delphes(shared / "delphes/ttH_10events.root", r=0.8)
    lead = io.read_delphes(shared / "delphes/ttH_10events.root", r=0.8, n_leading=1)
    assert len(lead) == len(np.unique(all_.event.to_numpy())) and ak.all(lead["rank"] == 0)
    win = io.read_delphes(shared / "delphes/ttH_10events.root", r=0.8, mass_window=(80, 95))
    assert ak.all((win.mass >= 80) & (win.mass <= 95)) and 0 < len(win) < 6

def test_delphes_zero_jets_after_selection(shared):
    with pytest.raises(JetADError, match=r"ttH_10events.root: no 'FatJet' jets pass the selection \(pT >= 5000"):
        io.read_delphes(shared / "delphes/ttH_10events.root", min_pt=5000)

def test_broken_file_fails_cleanly(shared):
    with pytest.raises(JetADError, match="broken_no_keys.root: ROOT file has no keys") as e:
        io.read_delphes(shared / "delphes/broken_no_keys.root")
    assert "\n" not in str(e.value)
    with pytest.raises(JetADError, match="broken_no_keys.root"):
        io.read_pfnano(shared / "delphes/broken_no_keys.root")
    with pytest.raises(JetADError, match="no tree 'Delphes' or 'Events'|no keys"):
        io.read_jets(shared / "delphes/broken_no_keys.root")

def test_missing_tree_and_branch(shared, tmp_path):
    with pytest.raises(JetADError, match="no tree 'Delphes'"):
        io.read_delphes(shared / "cms_pfnano/qcd_dijet_10events.root")
    with pytest.raises(JetADError, match="no 'NoSuchJet' collection"):
        io.read_delphes(shared / "delphes/ttH_10events.root", jets="NoSuchJet", recluster="never")
    f = io.write_delphes(
        tmp_path / "nophi.root",
        {
            "FatJet": ak.Array([[{"PT": 1.0, "Eta": 0.0, "Mass": 1.0}]]),
            "Tower": ak.Array([[{"ET": 1.0, "Eta": 0.0, "Phi": 0.0, "E": 1.0}]]),
        },
    )
    with pytest.raises(JetADError, match="missing branch 'FatJet.Phi'"):
        io.read_delphes(f, constituents="Tower")

def test_pfnano(shared):
    t = io.read_pfnano(shared / "cms_pfnano/qcd_dijet_10events.root")
    assert len(t) > 10 and ak.all(t.pt >= 200) and ak.all(abs(t.eta) <= 2)
    c = t.constituents
    charged = ak.flatten(c.charge != 0).to_numpy()
    d0, d0err = ak.flatten(c.d0).to_numpy(), ak.flatten(c.d0err).to_numpy()
    assert np.isfinite(d0[charged]).all() and (d0err[charged] > 0).mean() > 0.9
    assert np.isnan(d0[~charged]).all()
    pt_sum, _ = io.constituent_sum(t)            # AK8 candidates carry (almost) the whole jet pT
    assert np.median(pt_sum / t.pt.to_numpy()) == pytest.approx(1.0, abs=0.1)
    assert "msoftdrop" in t.fields and np.isnan(t.tau5.to_numpy()).all()

def test_lhco(shared):
    t = io.read_lhco(shared / "lhco/events_anomalydetection_tiny.h5")
    lead = t[t["rank"] == 0]
    assert len(lead) == 1000 and int(ak.sum(lead.label == 1)) == 93
    assert ak.all(ak.flatten(t.constituents.charge) == -99)
    part = io.read_lhco(shared / "lhco/events_anomalydetection_tiny.h5", start=100, stop=150, chunk=20)
    assert set(np.unique(part.event.to_numpy())) == set(range(100, 150))
    with pytest.raises(JetADError, match="no key 'nope'"):
        io.read_lhco(shared / "lhco/events_anomalydetection_tiny.h5", key="nope")

def test_vrnn(shared):
    with pytest.warns(UserWarning, match="dropped 3 jets"):
        t = io.read_vrnn(shared / "vrnn/events_anomalydetection_VRNN_2Prong_Signal.hdf5", label=1)
    assert len(t) == 317 and ak.all(t.label == 1)
    for k in io.VRNN_HLVS:
        assert np.isfinite(t[k].to_numpy()).all()
    assert ak.all(ak.num(t.constituents) >= 1) and ak.all(ak.num(t.constituents) <= 80)
    with pytest.raises(JetADError, match="missing key 'constituents'"):
        io.read_vrnn(shared / "lhco/events_anomalydetection_tiny.h5")

def test_detect_format(shared):
    assert io.detect_format(shared / "delphes/ttH_10events.root") == "delphes"
    assert io.detect_format(shared / "cms_pfnano/qcd_dijet_10events.root") == "pfnano"
    assert io.detect_format(shared / "lhco/events_anomalydetection_tiny.h5") == "lhco"
    assert io.detect_format(shared / "vrnn/events_anomalydetection_VRNN_2Prong_Signal.hdf5") == "vrnn"

def test_cache_round_trip_real(shared, tmp_path):
    t = io.read_pfnano(shared / "cms_pfnano/qcd_dijet_10events.root")
    f = io.write_jets_h5(t, tmp_path / "cms.h5", compression="gzip", source="pfnano")
    back = io.read_jets(f)
    assert back.fields == t.fields
    for k in ("pt", "eta", "msoftdrop", "event", "rank"):
        np.testing.assert_array_equal(back[k].to_numpy(), t[k].to_numpy())
    for k in io.CONSTITUENT_FIELDS:
        np.testing.assert_array_equal(
            ak.flatten(back.constituents[k]).to_numpy(), ak.flatten(t.constituents[k]).to_numpy()
        )
    part = io.read_jets_h5(f, start=3, stop=7)
    assert part.pt.tolist() == t.pt[3:7].tolist()

# ---------------------------------------------------------------- no real files needed
def _tiny_table(n=5, seed=0):
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 6, n)
    k = counts.sum()
    return io.jet_table(
        dict(
            pt=rng.uniform(200, 900, n),
            eta=rng.normal(0, 1, n),
            phi=rng.uniform(-3, 3, n),
            mass=rng.uniform(10, 200, n),
            event=np.arange(n),
            rank=np.zeros(n),
            label=rng.integers(0, 2, n),
        ),
        dict(
            pt=rng.uniform(1, 100, k),
            eta=rng.normal(0, 1, k),
            phi=rng.uniform(-3, 3, k),
            energy=rng.uniform(1, 200, k),
            charge=rng.integers(-1, 2, k),
            pdgid=rng.choice([211, 22, 130], k),
        ),
        counts,
    )

def test_cache_schema_and_keys(tmp_path):
    f = io.write_jets_h5(_tiny_table(), tmp_path / "t.h5", seed=3)
    assert io.jets_h5_params(f) == {"seed": 3}
    with h5py.File(f, "a") as h:
        h.attrs["jetad_schema"] = 0
    with pytest.raises(JetADError, match=r"t.h5: schema version 0, expected 1"):
        io.read_jets_h5(f)
    with h5py.File(f, "a") as h:
        del h.attrs["jetad_schema"]
    with pytest.raises(JetADError, match="attribute 'jetad_schema' missing"):
        io.read_jets_h5(f)
    f2 = io.write_jets_h5(_tiny_table(), tmp_path / "u.h5")
    with h5py.File(f2, "a") as h:
        del h["jets/mass"]
    with pytest.raises(JetADError, match="u.h5: key 'jets/mass' missing"):
        io.read_jets_h5(f2)
    (tmp_path / "v.h5").write_text("nope")
    with pytest.raises(JetADError, match="not a readable HDF5 file"):
        io.read_jets_h5(tmp_path / "v.h5")

def test_cache_write_is_atomic(tmp_path):
    bad = ak.Array([{"pt": 1.0}])
    with pytest.raises(JetADError, match="missing field"):
        io.write_jets_h5(bad, tmp_path / "bad.h5")
    assert list(tmp_path.iterdir()) == []

def test_jet_table_sentinels_and_order():
    t = _tiny_table()
    assert np.isnan(t.tau1.to_numpy()).all()
    assert np.isnan(ak.flatten(t.constituents.d0err).to_numpy()).all()
    with pytest.raises(JetADError, match="jet field 'eta': expected shape"):
        io.jet_table(
            dict(pt=[1.0, 2.0], eta=[0.0], phi=[0.0, 0.0], mass=[1.0, 1.0], event=[0, 1], rank=[0, 0]),
            dict(pt=[], eta=[], phi=[], energy=[]),
            [0, 0],
        )

def test_links_group_and_sort_constituents():
    jets = {
        k: np.array(v, dtype=float)
        for k, v in dict(
            pt=[300, 200, 100], eta=[0, 1, 2], phi=[0, 0, 0], mass=[1, 1, 1], event=[0, 0, 1], rank=[0, 1, 0]
        ).items()
    }
    cands = {
        k: np.array(v, dtype=float)
        for k, v in dict(pt=[5, 50, 0, 7, 9], eta=[0] * 5, phi=[0] * 5, energy=[1] * 5).items()
    }
    # event 0: jets 0,1 / cands 0,1,2 ; event 1: jet 0 / cands 0,1 (global 3,4)
    gj, gc = clustering.global_links(
        [2, 1], [3, 2], *clustering.flat_links(ak.Array([[1, 0, 0, 0], [0, 0, 5]]), ak.Array([[0, 1, 2, 9], [0, 1, 0]]))
    )
    t = io._assemble(jets, cands, gj, gc, np.array([True, True, True]))
    assert t.constituents.pt.tolist() == [
        [50.0],
        [5.0],
        [9.0, 7.0],
    ]  # invalid link and zero-pT placeholder dropped, pT order
    t2 = io._assemble(jets, cands, gj, gc, np.array([False, True, True]))
    assert t2.constituents.pt.tolist() == [[5.0], [9.0, 7.0]]

def test_delphes_writer_round_trip_many_chunks(tmp_path):
    def chunk(seed):
        rng = np.random.default_rng(seed)
        n_c = rng.integers(3, 8, 4)
        trk = ak.unflatten(
            ak.zip(
                {
                    "PT": rng.uniform(1, 50, n_c.sum()),
                    "Eta": rng.normal(0, 0.3, n_c.sum()),
                    "Phi": rng.normal(0, 0.3, n_c.sum()),
                    "Charge": rng.choice([-1, 1], n_c.sum()).astype(np.int32),
                    "PID": np.full(n_c.sum(), 211, np.int32),
                    **{k: rng.normal(0, 0.1, n_c.sum()) for k in ("D0", "DZ")},
                    **{k: np.full(n_c.sum(), 0.05) for k in ("ErrorD0", "ErrorDZ")},
                }
            ),
            n_c,
        )
        empty = ak.unflatten(ak.zip({k: np.zeros(0) for k in ("ET", "Eta", "Phi", "E")}), np.zeros(4, int))
        fat = ak.unflatten(
            ak.zip(
                {"PT": ak.sum(trk.PT, axis=1).to_numpy(), "Eta": np.zeros(4), "Phi": np.zeros(4), "Mass": np.ones(4)}
            ),
            np.ones(4, int),
        )
        links = ak.zip({"Jet": ak.zeros_like(trk.Charge), "Index": ak.local_index(trk.PT)})
        return {
            "FatJet": fat,
            "FatJetConstituent": links,
            "EFlowTrack": trk,
            "EFlowPhoton": empty,
            "EFlowNeutralHadron": empty,
        }
    chunks = [chunk(s) for s in range(3)]
    f = io.write_delphes(tmp_path / "gen.root", iter(chunks))
    t = io.read_delphes(f, min_pt=0, step_size=5)        # tiny steps: several uproot chunks
    assert len(t) == 12 and t.event.tolist() == list(range(12))
    want = np.concatenate([ak.sum(c["EFlowTrack"].PT, axis=1).to_numpy() for c in chunks])
    np.testing.assert_allclose(ak.sum(t.constituents.pt, axis=1).to_numpy(), want, rtol=1e-5)
    np.testing.assert_allclose(ak.flatten(t.constituents.d0err).to_numpy(), 0.05, rtol=1e-6)

def test_cache_rejects_unknown_compression(tmp_path):
    with pytest.raises(JetADError, match="compression: expected"):
        io.write_jets_h5(_tiny_table(), tmp_path / "c.h5", compression="zstd")
    assert list(tmp_path.iterdir()) == []

def test_read_jets_refuses_events_files_and_passes_show_progress(tmp_path):
    ev = io.Events(np.zeros((2, 2)), np.zeros((2, 3)), np.array([False, True]))
    f = io.write_events_h5(tmp_path / "e.h5", {"a": ev})
    assert io.detect_format(f) == "events"
    with pytest.raises(JetADError, match="an events file, not a jet file"):
        io.read_jets(f)
    cache = io.write_jets_h5(_tiny_table(), tmp_path / "t.h5")
    assert len(io.read_jets(cache, show_progress=False)) == 5     # a cache reader has no progress bar

def test_readers_refuse_empty_path_lists():
    for reader in (io.read_delphes, io.read_pfnano):
        with pytest.raises(JetADError, match="paths: expected at least one"):
            reader([])

def test_unreadable_hdf5_is_a_clean_error(tmp_path):
    f = tmp_path / "cut.h5"
    f.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)       # HDF5 signature, then nothing
    with pytest.raises(JetADError, match="cut.h5: not a readable HDF5 file"):
        io.detect_format(f)


def test_pfnano_without_link_table(shared, tmp_path):
    "A PFNano file without the FatJetPFCands branches (written with uproot): fat jets matched by dR within R = 0.8."
    import uproot
    src = shared / "cms_pfnano/qcd_dijet_10events.root"
    with uproot.open(src) as f:
        t = f["Events"]
        keep = [b for b in t.keys() if b.startswith(("FatJet_", "PFCands_")) and not b.startswith("FatJetPFCands")]
        a = t.arrays(keep, library="ak")
    cols = {c: ak.zip({b[len(c) + 1:]: a[b] for b in keep if b.startswith(c + "_")}) for c in ("FatJet", "PFCands")}
    with uproot.recreate(tmp_path / "skim.root") as f:
        f.mktree("Events", {k: v.type.content for k, v in cols.items()}, counter_name=lambda c: "n" + c,
                 field_name=lambda outer, inner: f"{outer}_{inner}")
        f["Events"].extend(cols)
    linked = io.read_pfnano(src, show_progress=False)
    dr = io.read_pfnano(tmp_path / "skim.root", show_progress=False)
    with pytest.raises(JetADError, match="no fat-jet link table"):
        io.read_pfnano(tmp_path / "skim.root", matching="links", show_progress=False)
    assert set(dr.dr_matched.tolist()) == {1} and set(linked.dr_matched.tolist()) == {0}
    assert dr.pt.tolist() == linked.pt.tolist()
    n_dr, n_link = ak.num(dr.constituents).to_numpy(), ak.num(linked.constituents).to_numpy()
    pt_dr, pt_link = io.constituent_sum(dr)[0], io.constituent_sum(linked)[0]
    rel = np.abs(pt_dr - pt_link) / pt_link
    print(f"dR vs links: {np.median(n_dr / n_link):.2f}x the constituents (no PUPPI weights: pile-up inside R is kept),"
          f" constituent-sum pT within {np.median(rel):.1%} (median), {rel.max():.1%} (max)")
    assert (n_dr >= n_link).all()   # every linked candidate lies within R of its jet
    assert np.median(rel) < 0.1
