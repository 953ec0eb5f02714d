"""Checks every pod spec of rendered manifests against Pod Security "restricted", and more.

Beyond the admission profile's own rules (non-root, no privilege escalation, every capability
dropped, the RuntimeDefault seccomp profile), the project asks of each pod: a read-only root
file system with an emptyDir at /tmp, no service-account token, and resources on every
container, init containers included.

    python -m tools.k8s.pod_security RENDERED.yaml...
"""

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

POD_TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}


def pod_specs(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    kind = document.get("kind")
    if kind == "Pod":
        yield document["spec"]
    elif kind in POD_TEMPLATE_KINDS:
        yield document["spec"]["template"]["spec"]
    elif kind == "CronJob":
        yield document["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def _seccomp_default(context: dict[str, Any]) -> bool:
    return bool(context.get("seccompProfile", {}).get("type") == "RuntimeDefault")


def problems(spec: dict[str, Any]) -> list[str]:
    found = []
    pod = spec.get("securityContext", {})
    if spec.get("automountServiceAccountToken") is not False:
        found.append("automountServiceAccountToken is not false")
    if pod.get("runAsUser") == 0:
        found.append("the pod runs as root")
    tmp_volumes = {v["name"] for v in spec.get("volumes", []) if "emptyDir" in v}
    for container in [*spec.get("initContainers", []), *spec.get("containers", [])]:
        name = container["name"]
        context = container.get("securityContext", {})
        if not (context.get("runAsNonRoot") or pod.get("runAsNonRoot")):
            found.append(f"{name}: runAsNonRoot is not true")
        if context.get("runAsUser") == 0:
            found.append(f"{name}: runs as root")
        if context.get("allowPrivilegeEscalation") is not False:
            found.append(f"{name}: allowPrivilegeEscalation is not false")
        if context.get("privileged"):
            found.append(f"{name}: privileged")
        if context.get("capabilities", {}).get("drop") != ["ALL"]:
            found.append(f"{name}: capabilities do not drop ALL")
        if set(context.get("capabilities", {}).get("add", [])) - {"NET_BIND_SERVICE"}:
            found.append(f"{name}: adds capabilities")
        if not (_seccomp_default(context) or _seccomp_default(pod)):
            found.append(f"{name}: seccompProfile is not RuntimeDefault")
        if context.get("readOnlyRootFilesystem") is not True:
            found.append(f"{name}: readOnlyRootFilesystem is not true")
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        if mounts.get("/tmp") not in tmp_volumes:
            found.append(f"{name}: /tmp is not an emptyDir")
        resources = container.get("resources", {})
        if not (resources.get("requests") and resources.get("limits", {}).get("memory")):
            found.append(f"{name}: no resource requests and memory limit")
    return found


def check(paths: list[Path]) -> list[str]:
    found = []
    for path in paths:
        for document in yaml.safe_load_all(path.read_text()):
            if not document:
                continue
            where = f"{path}: {document['kind']}/{document['metadata']['name']}"
            for spec in pod_specs(document):
                found += [f"{where}: {problem}" for problem in problems(spec)]
    return found


def main() -> None:
    found = check([Path(p) for p in sys.argv[1:]])
    for line in found:
        print(line, file=sys.stderr)
    if found:
        sys.exit(1)


if __name__ == "__main__":
    main()
