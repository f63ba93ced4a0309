"""A real full disk, where the test may make one: a tmpfs of 64 KiB mounted for the test (this
needs root, as on the machines this project runs on; elsewhere the simulated full disks of
tests/test_hostile.py and tests/test_hardening_window.py still run). A save that does not fit is
one sentence, the previous file stays byte for byte, and nothing is left behind."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.errors import ModelFileError
from core.model_io import save_model
from core.network import Network
from core.npzio import write_atomically

ROOT = Path(__file__).resolve().parent.parent
SIZE = 64 * 1024  # bytes: room for a small model, not for 'fast' (940 KB of weights)


@pytest.fixture
def full_disk(tmp_path):
    """A folder on a file system of its own, 64 KiB, unmounted afterwards."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(folder)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"a tmpfs cannot be mounted here ({mounted.stderr.strip()}); the simulated "
                    "full disks of test_hostile.py stand for it")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def leftovers(folder: Path, keep: str) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name != keep)


def test_a_model_that_does_not_fit_keeps_the_previous_one(full_disk):
    target = full_disk / "brain.npz"
    save_model(target, Network.initialised((784, 8, 10), seed=0))
    before = target.read_bytes()
    with pytest.raises(ModelFileError) as refused:
        save_model(target, Network.initialised((784, 256, 128, 10), seed=1))
    message = str(refused.value)
    assert str(target) in message and "No space left on device" in message and "\n" not in message
    assert target.read_bytes() == before
    assert leftovers(full_disk, "brain.npz") == []


def test_a_picture_that_does_not_fit_keeps_the_previous_one(full_disk):
    """Pictures (--screenshot, Export, time-lapse GIFs) are written by the same atomic writer."""
    from core.errors import UserError
    target = full_disk / "window.png"
    target.write_bytes(b"\x89PNG previous")
    with pytest.raises(UserError, match="No space left on device"):
        write_atomically(target, lambda f: f.write(os.urandom(2 * SIZE)), "the picture")
    assert target.read_bytes() == b"\x89PNG previous"
    assert leftovers(full_disk, "window.png") == []


def test_train_onto_a_full_disk_is_one_sentence_and_the_old_model_stays(full_disk):
    target = full_disk / "brain.npz"
    save_model(target, Network.initialised((784, 8, 10), seed=0))
    before = target.read_bytes()
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "train", "--preset", "fast",
                             "--epochs", "1", "--limit", "300", "--out", str(target)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
                            env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    error = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "No space left on device" in error[0] and str(target) in error[0]
    assert target.read_bytes() == before and leftovers(full_disk, "brain.npz") == []
    assert np.load(target, allow_pickle=False)["sizes"].tolist() == [784, 8, 10]
