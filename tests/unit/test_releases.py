"""The record of releases (deploy/releases.toml) names what the rolling-deploy rules rely on."""

from alembic.script import ScriptDirectory

from crm.registry import SERVICES
from tools.migrations.releases import recorded_releases


def test_each_release_names_a_full_commit_and_every_services_head() -> None:
    releases = recorded_releases()

    assert releases, "no release recorded"
    assert len({r.version for r in releases}) == len(releases)
    for release in releases:
        assert len(release.commit) == 40, release.version
        assert set(release.commit) <= set("0123456789abcdef"), release.version
        assert set(release.heads) == set(SERVICES), release.version


def test_releases_are_recorded_oldest_first() -> None:
    versions = [tuple(int(part) for part in r.version.split(".")) for r in recorded_releases()]

    assert versions == sorted(versions)


def test_every_recorded_head_is_in_todays_history() -> None:
    """A release's revisions stay in the history: later ones build on them."""
    for release in recorded_releases():
        for service, head in release.heads.items():
            scripts = ScriptDirectory(str(SERVICES[service].migrations))
            assert scripts.get_revision(head) is not None, (release.version, service, head)
