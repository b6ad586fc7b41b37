"""Scale-out on dask.distributed: a 2-worker LocalCluster gives the same generated events, jet tables and event
caches as the serial path."""
import awkward as ak
import numpy as np
import pytest

from jetad_nb.core import JetADError
from jetad_nb.core import dask_map
from jetad_nb.core import data_dir
from jetad_nb.generate import generate_many
from jetad_nb.io import read_delphes
from jetad_nb.io import read_many


@pytest.fixture(scope="module")
def cluster():
    "One 2-worker LocalCluster for the module (as `jetad generate --workers 2` starts)."
    from dask.distributed import LocalCluster
    c = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    yield c.scheduler_address
    c.close()

def _same(a, b):
    "Equal jet tables: same fields, same structure, same values (NaN equal to NaN)."
    assert a.fields == b.fields and len(a) == len(b)
    for f in a.fields:
        x, y = a[f], b[f]
        if x.fields:
            assert ak.to_list(ak.num(x)) == ak.to_list(ak.num(y)), f
            for g in x.fields:
                np.testing.assert_array_equal(
                    ak.to_numpy(ak.flatten(x[g], axis=None)),
                    ak.to_numpy(ak.flatten(y[g], axis=None)),
                    err_msg=f"{f}.{g}",
                )
        else:
            np.testing.assert_array_equal(ak.to_numpy(x), ak.to_numpy(y), err_msg=f)

def test_generate_parallel_equals_serial(tmp_path, cluster):
    kw = dict(process="qcd", n_events=24, seed=11, n_jobs=3, show_progress=False, truth=False, pt_hat_min=450.0)
    serial = generate_many(out_dir=tmp_path / "s", workers=1, **kw)
    par = generate_many(out_dir=tmp_path / "p", scheduler=cluster, **kw)
    assert [f.name for f in serial] == [f.name for f in par]
    _same(read_delphes(serial, show_progress=False), read_delphes(par, show_progress=False))

def test_read_many_equals_serial(cluster):
    files = sorted(str(p) for p in data_dir().glob("*.root"))
    assert len(files) >= 5
    for kw in ({}, {"min_pt": 300.0, "n_leading": 1}):
        _same(
            read_many(files, scheduler=cluster, show_progress=False, **kw),
            read_delphes(files, show_progress=False, **kw),
        )
    _same(read_many(files, workers=1, show_progress=False), read_delphes(files, show_progress=False))

def test_read_many_files_without_jets_and_errors(tmp_path, cluster):
    files = [str(data_dir() / "qcd.root"), str(data_dir() / "top.root")]
    hi = read_many(files, scheduler=cluster, min_pt=700.0, show_progress=False)   # some files may have no jet this hard
    _same(hi, read_delphes(files, min_pt=700.0, show_progress=False))
    with pytest.raises(JetADError, match="no jets pass the selection"):
        read_many(files, scheduler=cluster, min_pt=1e6, show_progress=False)
    with pytest.raises(JetADError, match="no such file"):
        read_many([str(tmp_path / "missing.root")], workers=1)

def test_events_cache_parallel_equals_serial(tmp_path, cluster):
    from jetad_nb.extrapolation import events_cache
    from jetad_nb.io import read_events_h5
    files = [str(data_dir() / f"{k}.root") for k in ("qcd", "wprime", "hv")]
    events_cache({"a": (files, False)}, tmp_path / "s.h5", min_pt=100.0)
    events_cache({"a": (files, False)}, tmp_path / "p.h5", min_pt=100.0, scheduler=cluster)
    s, p = read_events_h5(tmp_path / "s.h5", "a"), read_events_h5(tmp_path / "p.h5", "a")
    assert len(s) > 0 and np.array_equal(s.c, p.c) and np.array_equal(s.x, p.x)

def test_dask_map_propagates_job_errors(cluster):
    def bad(x):
        if x == 2:
            raise ValueError("job 2 broke")
        return x
    with pytest.raises(ValueError, match="job 2 broke"):
        dask_map(bad, [{"x": i} for i in range(4)], scheduler=cluster, show_progress=False)
