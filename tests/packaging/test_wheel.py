"""The project as it ships: a wheel built from the sources, installed in a clean venv.

The services are deployed from the installed package (the Dockerfile installs the hashed
runtime lock, then ``pip install --no-deps .``, and removes the sources), so a package left out
of pyproject's list would only show in production: the checkout's source tree, on ``sys.path``
in every other test, hides it. Here nothing of the checkout is importable: the wheel is
installed in a venv of its own (no system site packages), and the imports run in isolated mode
(``python -I``) from a directory outside the checkout. The services' venv is made as the
image's is: ``requirements-runtime.lock`` with ``--require-hashes``, then the wheel alone, so a
lock that lacks a dependency, or the hash of a file pip picks, fails here rather than in the
image's build.

It needs the package registry (pip builds with the declared setuptools and installs the pinned
dependencies, from its cache when it has them) and takes about 40 s.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from crm.registry import SERVICES

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
RUNTIME_LOCK = ROOT / "requirements-runtime.lock"
SHIPPED_PACKAGES = {"contracts", "shared", "services", "crm"}
INSTALL_SECONDS = 900

# Run by the venv's Python: imports the modules named in argv, then prints where every module
# of ours that came with them was loaded from.
PROBE = """
import importlib, json, pkgutil, sys
ours = ("contracts", "shared", "services", "crm")
for name in sys.argv[1:]:
    module = importlib.import_module(name)
    if name == "contracts":
        for found in pkgutil.walk_packages(module.__path__, "contracts."):
            importlib.import_module(found.name)
print(json.dumps({
    name: getattr(module, "__file__", None)
    for name, module in sorted(sys.modules.items())
    if name.split(".")[0] in ours
}))
"""


def _run(command: Sequence[str | Path], *, cwd: Path) -> str:
    # Nothing of the calling environment may point Python at the checkout.
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"}
    }
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=INSTALL_SECONDS,
        check=False,
    )
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _is_package_dir(path: Path) -> bool:
    return path.is_dir() and (path / "__init__.py").exists()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from a copy of pyproject.toml and every top-level package
    of the checkout (tests and bench too: the package list must leave them out), so that the
    build leaves nothing in the checkout."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    shutil.copy2(ROOT / "pyproject.toml", source)
    ignored = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in filter(_is_package_dir, ROOT.iterdir()):
        shutil.copytree(package, source / package.name, ignore=ignored)
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", work / "dist", source],
        cwd=work,
    )
    (built,) = (work / "dist").glob("*.whl")
    return built


def _venv(directory: Path) -> Path:
    """A fresh venv (without system site packages); returns its Python."""
    _run([sys.executable, "-m", "venv", directory], cwd=directory.parent)
    return directory / "bin" / "python"


def _probe(python: Path, modules: Sequence[str], *, cwd: Path) -> dict[str, str | None]:
    found: dict[str, str | None] = json.loads(_run([python, "-I", "-c", PROBE, *modules], cwd=cwd))
    return found


def _outside(venv: Path, files: dict[str, str | None]) -> dict[str, str | None]:
    return {
        name: file
        for name, file in files.items()
        if file is None or not Path(file).resolve().is_relative_to(venv.resolve())
    }


def test_the_wheel_holds_the_four_packages_and_nothing_else(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        top_level = {name.split("/")[0] for name in archive.namelist() if ".dist-info/" not in name}

    assert top_level == SHIPPED_PACKAGES


def test_every_service_and_the_command_import_from_the_installed_wheel(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    python = _venv(venv)
    # As the Dockerfile does.
    _run(
        [python, "-m", "pip", "install", "-q", "--require-hashes", "-r", RUNTIME_LOCK], cwd=tmp_path
    )
    _run([python, "-m", "pip", "install", "-q", "--no-deps", wheel], cwd=tmp_path)
    # Every dependency the wheel declares came with the lock.
    _run([python, "-m", "pip", "check"], cwd=tmp_path)
    modules = [
        "contracts",
        "shared",
        *(f"services.{name}.app" for name in SERVICES),
        "crm.cli",
        "crm.operations",
    ]

    loaded = _probe(python, modules, cwd=tmp_path)

    assert set(modules) <= set(loaded)
    assert _outside(venv, loaded) == {}


def test_contracts_need_only_pydantic(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    python = _venv(venv)
    _run([python, "-m", "pip", "install", "-q", "-c", LOCK, "pydantic"], cwd=tmp_path)
    _run([python, "-m", "pip", "install", "-q", "--no-deps", wheel], cwd=tmp_path)

    loaded = _probe(python, ["contracts"], cwd=tmp_path)

    modules_of_contracts = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in (ROOT / "contracts").rglob("*.py")
    }
    assert set(loaded) == modules_of_contracts
    assert _outside(venv, loaded) == {}


def _pins(lock: Path) -> dict[str, str]:
    """Name (normalised) -> version, of every ``name==version`` line of a lock."""
    pins = {}
    for line in lock.read_text().splitlines():
        if "==" in line and not line.startswith((" ", "#")):
            name, version = line.split("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version.split()[0]
    return pins


def test_the_image_s_lock_holds_development_s_versions_each_with_its_hashes() -> None:
    runtime, development = _pins(RUNTIME_LOCK), _pins(LOCK)
    entries = re.split(r"\n(?=[A-Za-z])", RUNTIME_LOCK.read_text())
    unhashed = [e.split()[0] for e in entries if "==" in e and "--hash=sha256:" not in e]

    # The build backend is the one pin development does not share (its venv has its own).
    assert {n: v for n, v in runtime.items() if n != "setuptools"} == {
        n: development.get(n) for n in runtime if n != "setuptools"
    }
    assert "setuptools" in runtime
    assert unhashed == []
