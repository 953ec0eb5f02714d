"""`make deploy-check`'s validation refuses what the cluster would refuse."""

from pathlib import Path

import pytest

from tests.unit.k8s_rendering import OVERLAYS, render, validate
from tools.k8s.manifests import rendered
from tools.k8s.pod_security import check


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_overlay_validates_strictly_offline(overlay: str, tmp_path: Path) -> None:
    path = tmp_path / f"{overlay}.yaml"
    path.write_text(render(overlay))

    result = validate(path)

    assert result.returncode == 0, result.stdout + result.stderr


def test_a_misspelt_field_in_a_kafka_topic_fails(tmp_path: Path) -> None:
    text = render("production")
    assert text.count("\n  partitions: 6\n") == 12
    path = tmp_path / "misspelt.yaml"
    path.write_text(text.replace("\n  partitions: 6\n", "\n  partitons: 6\n", 1))

    result = validate(path)

    assert result.returncode == 1
    assert "additional properties 'partitons' not allowed" in result.stdout


def test_a_kind_without_a_vendored_schema_fails(tmp_path: Path) -> None:
    path = tmp_path / "unknown.yaml"
    path.write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: inlined}\n")

    result = validate(path)

    assert result.returncode == 1


def test_a_pod_that_may_escalate_its_privileges_fails(tmp_path: Path) -> None:
    path = tmp_path / "escalating.yaml"
    path.write_text(
        render("dev").replace("allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true")
    )

    found = check([path])

    assert found
    assert all("allowPrivilegeEscalation is not false" in f for f in found)


def test_the_generated_manifests_are_up_to_date() -> None:
    for path, text in rendered().items():
        assert path.read_text() == text, f"{path}: run `python -m tools.k8s.manifests`"
