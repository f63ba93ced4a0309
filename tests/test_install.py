"""``pip install .`` in a fresh virtual environment gives a working ``watch-it-learn`` command.

Installing NumPy, PySide6 and pyqtgraph from the registry would take minutes, so the fresh
environment borrows them: a ``.pth`` file in its site-packages names the running interpreter's,
which come after its own on ``sys.path``. Only this program is installed into it, from a copy of
the checkout (setuptools leaves build/ and an .egg-info folder where it builds), with this
environment's setuptools (``--no-build-isolation``, nothing fetched). The command then runs from
a folder outside the checkout, with no PYTHONPATH, so only the installed files can answer.
"""
from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import sysconfig
import tomllib
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMMAND = "watch-it-learn"
NOT_SHIPPED = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.pyc", ".pytest_cache",
                                     ".ruff_cache", ".hypothesis", "build", "dist", "*.egg-info")


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return dict(env, PYTHONNOUSERSITE="1", QT_QPA_PLATFORM="offscreen", OPENBLAS_NUM_THREADS="1")


def run(args: list, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    """Each command takes a few seconds; one that has not ended within the timeout is stuck."""
    args = [str(a) for a in args]
    try:
        return subprocess.run(args, cwd=cwd, env=environment(), capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        said = [out.decode(errors="replace") if isinstance(out, bytes) else out or ""
                for out in (exc.stdout, exc.stderr)]  # bytes here, even with text=True
        pytest.fail(f"{' '.join(args)} had not ended after {timeout:g} s:\n" + "\n".join(said))


def succeeded(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, (f"{' '.join(result.args)} exited {result.returncode}:\n"
                                    f"{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The program installed by pip into a new venv: its command, its site-packages, and a
    folder outside the checkout to run it from."""
    base = tmp_path_factory.mktemp("install")
    source, venv, elsewhere = base / "source", base / "venv", base / "elsewhere"
    shutil.copytree(ROOT, source, ignore=NOT_SHIPPED)
    elsewhere.mkdir()
    succeeded(run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=base))
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    own = Path(succeeded(run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             cwd=base)).stdout.strip())
    borrowed = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib"),
                              *site.getsitepackages()])  # pip, setuptools, NumPy, PySide6 ...
    (own / "borrowed.pth").write_text("".join(f"{p}\n" for p in borrowed if Path(p).is_dir()))
    succeeded(run([python, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                   "--disable-pip-version-check", source], cwd=base, timeout=300))
    shutil.rmtree(source)  # what the command needs was copied into the venv, and only that
    return types.SimpleNamespace(command=python.parent / COMMAND, site_packages=own, cwd=elsewhere)


def test_every_file_of_core_and_app_is_installed(installed):
    """Every module of core/ and app/ (and their subpackages), core/MATHS.md (shown by Help) and
    MNIST, which core.data finds inside the installed core/ (there is no assets/ beside it)."""
    shipped = {p.relative_to(ROOT) for package in ("core", "app") for p in (ROOT / package).rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    assert Path("core/MATHS.md") in shipped
    missing = sorted(str(p) for p in shipped if not (installed.site_packages / p).is_file())
    assert not missing, f"pip install . leaves out {missing}: add them to pyproject.toml"
    mnist = installed.site_packages / "core" / "assets" / "mnist.npz"
    assert mnist.stat().st_size == (ROOT / "assets" / "mnist.npz").stat().st_size
    assert not (installed.site_packages / "assets").exists()
    found = succeeded(run([installed.command.parent / "python", "-c",
                           "import core.data; print(core.data.ASSETS)"], cwd=installed.cwd))
    assert Path(found.stdout.strip()) == mnist.parent


def test_the_installed_version_is_the_programs(installed):
    import app

    code = f"import importlib.metadata; print(importlib.metadata.version({COMMAND!r}))"
    version = succeeded(run([installed.command.parent / "python", "-c", code], cwd=installed.cwd))
    assert version.stdout.strip() == app.__version__


def test_the_command_is_on_the_venvs_path_and_helps(installed):
    result = succeeded(run([installed.command, "--help"], cwd=installed.cwd))
    assert "usage:" in result.stdout
    assert all(command in result.stdout for command in ("train", "evaluate", "predict"))
    window = succeeded(run([installed.command, "window", "--help"], cwd=installed.cwd))
    assert "--screenshot" in window.stdout


def test_the_command_trains_and_evaluates_with_the_installed_mnist(installed, tmp_path):
    brain = tmp_path / "brain.npz"
    trained = succeeded(run([installed.command, "train", "--preset", "classic", "--epochs", "1",
                             "--limit", "500", "--out", brain], cwd=installed.cwd))
    assert "epoch 1/1" in trained.stdout and f"saved {brain}" in trained.stdout
    assert f"from {installed.site_packages / 'core' / 'assets' / 'mnist.npz'}" in trained.stdout
    assert brain.is_file()
    evaluated = succeeded(run([installed.command, "evaluate", brain, "--limit", "500"], cwd=installed.cwd))
    assert "confusion matrix" in evaluated.stdout
    assert evaluated.stdout.strip().splitlines()[-1].startswith("test accuracy: ")


def test_the_command_opens_the_window(installed, tmp_path):
    """Offscreen, the installed window trains an epoch and pictures itself: app/ and its panels
    import and run from the installed files."""
    shot = tmp_path / "window.png"
    succeeded(run([installed.command, "--screenshot", shot, "--epochs", "1", "--limit", "500",
                   "--preset", "classic"], cwd=installed.cwd))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_command_and_main_py_run_the_same_function(monkeypatch, capsys, tmp_path):
    """The console script is app.launch:installed, which runs what main.py runs (dispatch) under
    the same guard; main.py still helps."""
    import app.launch
    import main

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts == {COMMAND: "app.launch:installed"}
    assert main.main is app.launch.dispatch
    monkeypatch.setattr(sys, "argv", [COMMAND, "evaluate", str(tmp_path / "missing.npz")])
    assert app.launch.installed() == 2  # a mistake is one sentence there too, not a traceback
    assert capsys.readouterr().err.startswith("error: cannot read model")
    result = succeeded(run([sys.executable, ROOT / "main.py", "--help"], cwd=ROOT))
    assert "usage:" in result.stdout and "train" in result.stdout
