"""The record of releases (``deploy/releases.toml``): which commit each was built from and where
each service's migrations stood then."""

import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RECORD = ROOT / "deploy" / "releases.toml"


@dataclass(frozen=True)
class Release:
    version: str
    commit: str  # the full hash: a short one may become ambiguous as history grows
    heads: dict[str, str]  # service → its Alembic head revision at that commit


def recorded_releases(record: Path = RECORD) -> list[Release]:
    """The releases, oldest first."""
    with record.open("rb") as file:
        entries = tomllib.load(file)["releases"]
    return [
        Release(version=e["version"], commit=e["commit"], heads=dict(e["heads"])) for e in entries
    ]


def last_release(record: Path = RECORD) -> Release:
    return recorded_releases(record)[-1]
