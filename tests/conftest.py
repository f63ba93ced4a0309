"""Shared fixtures. The real MNIST is read once per session; most tests use a slice of it."""
import os
import tempfile

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as main.py does, and before NumPy loads
os.environ["QT_QPA_PLATFORM"] = "offscreen"  # the window's tests need no screen
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="state-")  # the tests' logs, not the user's

import pytest  # noqa: E402

from core.data import load_mnist  # noqa: E402


@pytest.fixture(scope="session")
def mnist():
    """The full bundled MNIST (assets/mnist.npz), read-only arrays."""
    return load_mnist()


@pytest.fixture(scope="session")
def small_mnist(mnist):
    """2,000 training and 1,000 test images: enough to see learning, quick to train."""
    return mnist.limit(2000, 1000)


@pytest.fixture(scope="session")
def fast_net(mnist):
    """A small ReLU network after one epoch on 20,000 images (about 96% right): for tests that
    read digits with a trained network and compare, not for tests of training. It is 'fast' at
    the learning rate 'fast' had when the tests of photos were measured with it (0.001, kept by
    'watch'): at 0.003 it reads touching digits well enough that cutting them at the least ink
    stops being wrong, and those tests lose what they show."""
    from core.config import preset
    from core.train import Trainer
    trainer = Trainer(mnist.limit(20_000, 1000), preset("fast").replace(lr=1e-3, warmup=0.0, epochs=1))
    for _ in trainer.run():
        pass
    return trainer.net


@pytest.fixture(autouse=True)
def no_unsaved_question():
    """Windows of the tests do not ask Save / Discard / Cancel when a trained network would be
    thrown away (nobody would answer); the tests of that question turn it on for their window.
    (Not monkeypatch: some tests undo theirs midway.)"""
    from app.window import MainWindow
    MainWindow.confirm_discard = False
    yield
    MainWindow.confirm_discard = True
