"""`make deploy-check`'s validation refuses what the cluster would refuse."""

import os
import re
import textwrap
from pathlib import Path

import pytest
import yaml

from contracts.catalogue import Topic
from tests.unit.k8s_rendering import K8S, OVERLAYS, ROOT, render, render_directory, validate
from tools.k8s.manifests import rendered
from tools.k8s.pod_security import check


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_overlay_validates_strictly_offline(overlay: str, tmp_path: Path) -> None:
    path = tmp_path / f"{overlay}.yaml"
    path.write_text(render(overlay))

    result = validate(path)

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_restore_drills_patch_makes_a_valid_recovering_cluster(tmp_path: Path) -> None:
    guide = (ROOT / "docs" / "operations.md").read_text()
    (block,) = [
        b for b in re.findall(r"```yaml\n(.*?)```", guide, re.DOTALL) if "Restore of crm-db" in b
    ]
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        # kustomize takes no absolute path: the overlay as seen from the temporary dir.
        "resources": [os.path.relpath(K8S / "overlays" / "production", tmp_path)],
        "patches": yaml.safe_load(textwrap.dedent(block)),
    }
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    path = tmp_path / "restore.yaml"
    path.write_text(render_directory(tmp_path))

    result = validate(path)

    assert result.returncode == 0, result.stdout + result.stderr
    (cluster,) = [d for d in yaml.safe_load_all(path.read_text()) if d["kind"] == "Cluster"]
    spec = cluster["spec"]
    (source,) = spec["externalClusters"]
    assert spec["bootstrap"]["recovery"]["source"] == source["name"]
    assert spec["bootstrap"]["recovery"]["recoveryTarget"]["targetTime"]
    # It restores from the old cluster's archive and archives into a folder of its own.
    assert source["plugin"]["parameters"]["serverName"] == cluster["metadata"]["name"]
    assert spec["plugins"][0]["parameters"]["serverName"] != cluster["metadata"]["name"]
    assert (
        source["plugin"]["parameters"]["barmanObjectName"]
        == (spec["plugins"][0]["parameters"]["barmanObjectName"])
    )


def test_a_misspelt_field_in_a_kafka_topic_fails(tmp_path: Path) -> None:
    text = render("production")
    # Every topic of the catalogue, and its dead letters.
    assert text.count("\n  partitions: 6\n") == 2 * len(Topic)
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
