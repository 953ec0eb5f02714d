"""The Kubernetes overlays as kustomize renders them, and kubeconform over the vendored schemas:
the pinned tools `make deploy-tools` builds (with Go) into .tools/bin."""

import subprocess  # nosec B404 - the project's own pinned tools, no shell
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "production")


def _make_variable(name: str) -> str:
    out = subprocess.run(  # nosec B603 B607
        ["make", "-s", "--no-print-directory", "-C", str(ROOT), f"print-{name}"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


@cache
def tool(name: str) -> Path:
    """kustomize or kubeconform at the version the Makefile pins, built if missing."""
    subprocess.run(  # nosec B603 B607
        ["make", "-s", "--no-print-directory", "-C", str(ROOT), "deploy-tools"],
        check=True,
        capture_output=True,
    )
    return Path(_make_variable(name.upper()))


def render(overlay: str) -> str:
    return render_directory(K8S / "overlays" / overlay)


def render_directory(path: Path) -> str:
    """What kustomize makes of the kustomization in ``path``."""
    out = subprocess.run(  # nosec B603
        [str(tool("kustomize")), "build", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout


@cache
def documents(overlay: str) -> tuple[dict[str, Any], ...]:
    return tuple(d for d in yaml.safe_load_all(render(overlay)) if d)


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    """kubeconform -strict over the vendored schemas, as `make deploy-check` runs it."""
    locations = _make_variable("K8S_SCHEMAS").split("-schema-location")
    schemas = [arg for loc in locations if loc.strip() for arg in ("-schema-location", loc.strip())]
    return subprocess.run(  # nosec B603
        [str(tool("kubeconform")), "-strict", *schemas, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
