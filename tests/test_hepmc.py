"""HepMC3 input: Pythia events written as HepMC3 and reconstructed give the jets of the direct path; bad files give
one-line errors."""
import awkward as ak
import numpy as np
import pytest

from jetad_nb import generate as g
from jetad_nb.core import JetADError
from jetad_nb.io import read_delphes


@pytest.mark.parametrize("process", ["w", "hv"])   # hv: stable dark hadrons and neutrinos must be dropped
def test_round_trip_equals_direct_path(tmp_path, process):
    direct = g.generate(process, 5, tmp_path / "d.root", seed=7, chunk=2, show_progress=False)
    hep = g.write_hepmc(process, 5, tmp_path / "e.hepmc3", seed=7)
    via = g.reconstruct_hepmc(hep, tmp_path / "v.root", seed=7, chunk=2, show_progress=False)
    a, b = read_delphes(direct, min_pt=0, show_progress=False), read_delphes(via, min_pt=0, show_progress=False)
    assert len(a) == len(b) > 0
    for k in ("pt", "eta", "phi", "mass", "tau1", "tau2"):
        np.testing.assert_array_equal(a[k].to_numpy(), b[k].to_numpy(), err_msg=k)
    for k in ("pt", "eta", "d0", "dz"):
        x, y = (ak.flatten(t.constituents[k]).to_numpy() for t in (a, b))
        np.testing.assert_array_equal(x, y, err_msg=k)
    other = g.reconstruct_hepmc(hep, tmp_path / "o.root", seed=8, chunk=2, show_progress=False)
    assert read_delphes(other, min_pt=0, show_progress=False).pt.tolist() != a.pt.tolist()   # the seed matters

def test_bad_files(tmp_path):
    hep = g.write_hepmc("w", 2, tmp_path / "w.hepmc3", seed=1)
    cases = {
        "missing.hepmc3": (None, "no such file"),
        "plain.txt": (b"px py pz\n1 2 3\n", "not a HepMC3 ASCII file"),
        "hepmc2.dat": (b"HepMC::Version 2.06.09\nHepMC::IO_GenEvent-START_EVENT_LISTING\n", "not a HepMC3 ASCII file"),
        "cut.hepmc3": (hep.read_bytes()[: len(hep.read_bytes()) // 2], "truncated HepMC3 file"),
        "empty.hepmc3": (b"HepMC::Version 3.02.05\nHepMC::Asciiv3-START_EVENT_LISTING\n"
                         b"HepMC::Asciiv3-END_EVENT_LISTING\n\n", "no events in the HepMC3 file"),
    }
    for name, (content, msg) in cases.items():
        if content is not None:
            (tmp_path / name).write_bytes(content)
        with pytest.raises(JetADError, match=msg) as e:
            g.reconstruct_hepmc(tmp_path / name, tmp_path / "out.root", show_progress=False)
        assert "\n" not in str(e.value)
        assert not (tmp_path / "out.root").exists()

def test_units_are_converted(tmp_path):
    import pyhepmc
    prt = g._pythia("w", 2).nextBatch(1).prt[0]
    ev = g._hepmc_event(prt, 0)
    ref = g._hepmc_particles(ev)
    ev.set_units(pyhepmc.Units.MEV, pyhepmc.Units.CM)   # stored numbers become MeV and cm
    with open(tmp_path / "mev.hepmc3", "wb") as fo, pyhepmc.open(fo, "w") as f:
        f.write(ev)
    with pyhepmc.open(tmp_path / "mev.hepmc3") as f:
        back = g._hepmc_particles(next(iter(f)))
    assert "U MEV CM" in (tmp_path / "mev.hepmc3").read_text()
    np.testing.assert_allclose(back["e"], ref["e"], rtol=1e-12)
    np.testing.assert_allclose(back["x"], ref["x"], rtol=1e-12, atol=1e-15)

def test_cli_reconstruct(tmp_path, capsys):
    "jetad reconstruct: a HepMC3 file into Delphes-format ROOT; the output is checked before any event is read."
    from jetad_nb.cli import main
    hep = g.write_hepmc("w", 6, tmp_path / "w.hepmc3", seed=2)
    out = tmp_path / "sub" / "w.root"
    assert main(["reconstruct", "--in", str(hep), "--out", str(out), "--seed", "2", "--chunk", "4", "--no-truth"]) == 0
    direct = g.reconstruct_hepmc(hep, tmp_path / "d.root", seed=2, chunk=4, truth=False, show_progress=False)
    a, b = read_delphes(out, min_pt=0, show_progress=False), read_delphes(direct, min_pt=0, show_progress=False)
    assert len(a) == len(b) > 0 and a.pt.tolist() == b.pt.tolist()   # the command is the library call
    capsys.readouterr()
    assert main(["reconstruct", "--in", str(hep), "--out", str(tmp_path)]) == 2   # a folder: refused
    err = capsys.readouterr().err
    assert "is an existing folder" in err and len(err.strip().splitlines()) == 1
    assert main(["reconstruct", "--in", str(tmp_path / "no.hepmc3"), "--out", str(tmp_path / "x.root")]) == 2
    assert "no such file" in capsys.readouterr().err and not (tmp_path / "x.root").exists()
