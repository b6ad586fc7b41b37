import os

import pytest

os.environ.setdefault("JETAD_PROGRESS", "0")
os.environ.setdefault("MPLBACKEND", "Agg")

def _shared():
    from jetad_nb.core import shared_data_dir
    return shared_data_dir()

@pytest.fixture(scope="session")
def shared():
    "The real external files (../shared/data); tests that need them skip when the folder is absent."
    d = _shared()
    if d is None:
        pytest.skip(
            "../shared/data is absent (a user checkout): real-file tests need the development layout or "
            "$JETAD_SHARED_DATA"
        )
    return d
