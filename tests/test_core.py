import numpy as np
import pytest
import torch

from jetad_nb.core import JetADError
from jetad_nb.core import atomic_path
from jetad_nb.core import atomic_write
from jetad_nb.core import cache_dir
from jetad_nb.core import check_file
from jetad_nb.core import data_dir
from jetad_nb.core import get_device
from jetad_nb.core import package_dir
from jetad_nb.core import seed_everything


def test_seed_everything_reproduces_numpy_torch_python():
    import random
    g1 = seed_everything(7)
    a = (random.random(), np.random.rand(), torch.rand(1).item(), g1.normal())
    g2 = seed_everything(7)
    b = (random.random(), np.random.rand(), torch.rand(1).item(), g2.normal())
    assert a == b
    seed_everything(8)
    assert torch.rand(1).item() != a[2]

@pytest.mark.parametrize("bad", [-1, 1.5, "3"])
def test_seed_rejects_bad_values(bad):
    with pytest.raises(JetADError, match="seed"):
        seed_everything(bad)

def test_device_override(monkeypatch):
    monkeypatch.setenv("JETAD_DEVICE", "cpu")
    assert get_device().type == "cpu"
    with pytest.raises(JetADError, match="device"):
        get_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(JetADError, match="no CUDA GPU"):
            get_device("cuda")

def test_cache_dir_env(monkeypatch, tmp_path):
    monkeypatch.setenv("JETAD_CACHE", str(tmp_path / "cache"))
    assert cache_dir() == tmp_path / "cache" and (tmp_path / "cache").is_dir()

def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.bin"
    atomic_write(target, b"old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half-written")
            raise RuntimeError("crash")
    assert target.read_bytes() == b"old"          # the previous complete file survives
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]

def test_check_file(tmp_path):
    with pytest.raises(JetADError, match="no such file"):
        check_file(tmp_path / "x.root")
    with pytest.raises(JetADError, match="is not a file"):
        check_file(tmp_path)

def test_package_dir_and_data_dir(monkeypatch, tmp_path):
    assert (package_dir() / "core.py").is_file() and (package_dir() / "presets").is_dir()
    monkeypatch.delenv("JETAD_DATA", raising=False)
    assert data_dir() == package_dir().parent / "data"
    monkeypatch.setenv("JETAD_DATA", str(tmp_path))
    assert data_dir() == tmp_path and package_dir().name == "jetad_nb"   # the data moves, the package does not

def test_data_dir_of_an_installed_wheel_is_in_the_cache(monkeypatch, tmp_path):
    import jetad_nb.core as core
    from jetad_nb.core import checkout_dir
    assert checkout_dir() == package_dir().parent   # the tests run in a checkout
    monkeypatch.delenv("JETAD_DATA", raising=False)
    monkeypatch.setenv("JETAD_CACHE", str(tmp_path / "c"))
    monkeypatch.setattr(core, "checkout_dir", lambda: None)   # what an installed wheel sees
    assert data_dir() == tmp_path / "c" / "data" and not (tmp_path / "c").exists()   # made only when filled
    assert core.shared_data_dir() is None
