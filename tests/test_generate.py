"""Event generation: processes, the detector's formulas on hand-made particles, reproducibility, dask fan-out."""
import awkward as ak
import numpy as np
import pytest

from jetad_nb import generate as g
from jetad_nb.core import JetADError
from jetad_nb.io import read_delphes


def _particles(**cols):
    n = len(cols["px"])
    base = dict(px=np.zeros(n), py=np.zeros(n), pz=np.zeros(n), e=np.zeros(n), pid=np.full(n, 211.0), charge=np.ones(n),
                x=np.zeros(n), y=np.zeros(n), z=np.zeros(n))
    base.update({k: np.asarray(v, float) for k, v in cols.items()})
    return base

def test_settings_errors():
    with pytest.raises(JetADError, match="process: expected one of"):
        g.pythia_settings("zprime")
    with pytest.raises(JetADError, match="seed: expected 1"):
        g.pythia_settings("qcd", seed=0)
    assert "PhaseSpace:pTHatMin = 900.0" in g.pythia_settings("qcd", pt_hat_min=900.0)
    assert "4900023:m0 = 4000.0" in g.pythia_settings("hv", mass=4000.0)

def test_impact_parameters_without_smearing():
    # a track produced at (x, y, z) = (1, 0, 2) mm moving along y: d0 = x*py/pT = 1 mm, dz = z = 2 mm
    det = g.Detector(
        d0_res=0.0, d0_res_pt=0.0, dz_res=0.0, dz_res_pt=0.0, pt_res_const=0.0, pt_res_slope=0.0, track_eff=1.0
    )
    p = _particles(px=[0.0], py=[10.0], pz=[0.0], e=[10.001], x=[1.0], z=[2.0])
    d = g.simulate_detector(p, np.array([1]), np.random.default_rng(0), det)
    t = d["EFlowTrack"]
    assert t["D0"][0] == pytest.approx(1.0) and t["DZ"][0] == pytest.approx(2.0) and t["PT"][0] == pytest.approx(10.0)

def test_calorimeter_conserves_energy_without_smearing():
    rng = np.random.default_rng(1)
    n = 2000
    pt, eta, phi = rng.uniform(1, 50, n), rng.uniform(-2, 2, n), rng.uniform(-np.pi, np.pi, n)
    p = _particles(
        px=pt * np.cos(phi),
        py=pt * np.sin(phi),
        pz=pt * np.sinh(eta),
        e=pt * np.cosh(eta),
        pid=np.full(n, 22.0),
        charge=np.zeros(n),
    )
    det = g.Detector(em_stoch=0, em_const=0, em_threshold=0)
    d = g.simulate_detector(p, np.array([n // 2, n - n // 2]), rng, det)
    assert d["Tower"]["E"].sum() == pytest.approx(p["e"].sum(), rel=1e-9)
    assert d["EFlowPhoton"]["E"].sum() == pytest.approx(
        p["e"].sum(), rel=1e-9
    )  # photons: no tracks, all in EFlowPhoton
    assert len(d["EFlowTrack"]["PT"]) == 0 and set(np.unique(d["Tower"]["event"])) == {0, 1}

def test_tracking_efficiency_and_acceptance():
    rng = np.random.default_rng(2)
    n = 20000
    eta = rng.uniform(-4, 4, n)
    pt = np.full(n, 5.0)
    p = _particles(px=pt, py=np.zeros(n), pz=pt * np.sinh(eta), e=pt * np.cosh(eta))
    d = g.simulate_detector(p, np.array([n]), rng)
    inside = np.abs(eta) < 2.5
    assert len(d["EFlowTrack"]["PT"]) / inside.sum() == pytest.approx(0.95, abs=0.01)
    assert np.abs(d["EFlowTrack"]["Eta"]).max() < 2.5

def test_same_seed_same_file(tmp_path):
    a = g.generate("top", 6, tmp_path / "a.root", seed=5, truth=False)
    b = g.generate("top", 6, tmp_path / "b.root", seed=5, truth=False)
    c = g.generate("top", 6, tmp_path / "c.root", seed=6, truth=False)
    ja, jb, jc = (read_delphes(f, min_pt=0) for f in (a, b, c))
    for k in ("pt", "eta", "d0", "energy"):
        np.testing.assert_array_equal(
            ak.flatten(ja.constituents[k]).to_numpy(), ak.flatten(jb.constituents[k]).to_numpy()
        )
    assert ja.pt.tolist() != jc.pt.tolist()
    # stored links give every fat jet its constituents: their summed pT is close to the jet pT
    from jetad_nb.io import constituent_sum
    np.testing.assert_allclose(constituent_sum(ja)[0], ja.pt.to_numpy(), rtol=1e-3)

def test_dask_two_workers_equals_serial(tmp_path):
    serial = g.generate_many("w", 8, tmp_path / "s", seed=3, n_jobs=2, workers=1, truth=False)
    parallel = g.generate_many("w", 8, tmp_path / "p", seed=3, n_jobs=2, workers=2, truth=False)
    a, b = read_delphes(serial, min_pt=0), read_delphes(parallel, min_pt=0)
    assert len(a) == len(b) > 0
    np.testing.assert_array_equal(a.pt.to_numpy(), b.pt.to_numpy())
    np.testing.assert_array_equal(ak.flatten(a.constituents.eta).to_numpy(), ak.flatten(b.constituents.eta).to_numpy())

def test_cli_generate(tmp_path, capsys):
    from jetad_nb.cli import main
    assert (
        main(
            [
                "generate",
                "--process",
                "qcd",
                "--events",
                "4",
                "--seed",
                "1",
                "--out",
                str(tmp_path / "q.root"),
                "--no-truth",
            ]
        )
        == 0
    )
    assert len(read_delphes(tmp_path / "q.root", min_pt=0)) > 0
    assert main(["generate", "--process", "nope", "--events", "4", "--out", str(tmp_path / "x.root")]) == 2
    assert "process: expected one of" in capsys.readouterr().err
    assert not (tmp_path / "x.root").exists()

@pytest.mark.parametrize("process", ["qcd", "hv"])
def test_next_batch_equals_per_particle_loop(process):
    # the vectorised nextBatch extraction gives the particles of the old per-particle loop over next(), in order
    parts, counts, failed = g._pythia_batch(g._pythia(process, 9), 6, {}, 10)
    py, ref = g._pythia(process, 9), []
    while len(ref) < 6:
        if py.next():
            ref.append([(p.px(), p.py(), p.pz(), p.e(), p.id(), p.charge(), p.xProd(), p.yProd(), p.zProd())
                        for p in py.event if p.isFinal() and p.isVisible()])
    assert counts.tolist() == [len(r) for r in ref]
    np.testing.assert_array_equal(np.column_stack([parts[k] for k in g.PARTICLE_COLUMNS]), np.array(sum(ref, [])))

def test_chunks_do_not_change_particles():
    one = [np.column_stack(list(p.values())) for p, _ in g.pythia_events("w", 5, seed=4, chunk=5, show_progress=False)]
    many = [np.column_stack(list(p.values())) for p, _ in g.pythia_events("w", 5, seed=4, chunk=2, show_progress=False)]
    np.testing.assert_array_equal(one[0], np.concatenate(many))

def test_mpi_option():
    on, off = g.pythia_settings("qcd"), g.pythia_settings("qcd", mpi=False)
    assert "PartonLevel:MPI = off" not in on and off == on + ["PartonLevel:MPI = off"]
    assert g.pythia_settings("wprime", mpi=False)[-1] == "PartonLevel:MPI = off"
    # no underlying event: fewer visible particles per event (about 560 with MPI at pT-hat > 450 GeV)
    n_on = np.concatenate([c for _, c in g.pythia_events("qcd", 40, seed=3, show_progress=False)])
    n_off = np.concatenate([c for _, c in g.pythia_events("qcd", 40, seed=3, mpi=False, show_progress=False)])
    assert n_off.mean() < 0.85 * n_on.mean()

def test_tau_axes_of_the_detector():
    # a diffuse spray of photons around one axis, reconstructed with both axes choices: same jets, smaller tau_2
    rng = np.random.default_rng(4)
    n = 300
    pt, eta, phi = rng.exponential(8.0, n) + 2.0, rng.normal(0, 0.3, n), rng.normal(0, 0.3, n)
    p = _particles(px=pt * np.cos(phi), py=pt * np.sin(phi), pz=pt * np.sinh(eta), e=pt * np.cosh(eta),
                   pid=np.full(n, 22.0), charge=np.zeros(n))
    d = g.simulate_detector(p, np.array([n]), np.random.default_rng(0))
    kt, op = (g.reconstruct(d, fatjet_min_pt=50.0, truth=False, tau_axes=a)["FatJet"] for a in ("kt", "onepass_kt"))
    assert ak.to_list(kt.PT) == ak.to_list(op.PT)
    assert op.Tau2[0][0] < kt.Tau2[0][0] and op.Tau1[0][0] <= kt.Tau1[0][0] + 1e-6
    assert g.Detector().tau_axes == "kt"
    with pytest.raises(JetADError, match="axes: expected one of"):
        g.reconstruct(d, fatjet_min_pt=50.0, truth=False, tau_axes="ca")


def test_prefetch_child_that_dies_gives_one_line_error():
    "If the Pythia child process dies, the next chunk fails with a JetADError, not a bare EOFError or a hang."
    import multiprocessing as mp
    import os
    import signal
    events = g.pythia_events("w", 6, seed=1, chunk=2, show_progress=False, prefetch="process")
    next(events)
    (child,) = [c for c in mp.active_children() if c.name == "jetad pythia w"]
    os.kill(child.pid, signal.SIGKILL)
    child.join()
    with pytest.raises(JetADError, match="ended early"):
        list(events)


@pytest.mark.parametrize("mode", ["thread", "none"])
def test_prefetch_modes_give_the_same_events(mode):
    "The child process, the thread and the plain loop make the same events from the same seed."
    ref = list(g.pythia_events("w", 5, seed=4, chunk=2, show_progress=False, prefetch="process"))
    got = list(g.pythia_events("w", 5, seed=4, chunk=2, show_progress=False, prefetch=mode))
    for (p0, c0), (p1, c1) in zip(ref, got, strict=True):
        np.testing.assert_array_equal(c0, c1)
        for k in g.PARTICLE_COLUMNS:
            np.testing.assert_array_equal(p0[k], p1[k])
