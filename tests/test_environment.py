"""The test command provides the real services later features rely on."""

from __future__ import annotations

import shutil

import keyring
import pytest
from packaging.requirements import Requirement


def test_real_secret_service_keyring_round_trips():
    """Tests must reach gnome-keyring through D-Bus, not a fake or a plaintext file."""
    backend = keyring.get_keyring()
    assert type(backend).__module__ == "keyring.backends.SecretService", (
        f"got {backend!r}; run the tests through scripts/test"
    )
    keyring.set_password("walletsync-test", "probe", "s3cret")
    try:
        assert keyring.get_password("walletsync-test", "probe") == "s3cret"
    finally:
        keyring.delete_password("walletsync-test", "probe")


@pytest.mark.parametrize("tool", ["redis-server", "node", "npm"])
def test_service_binaries_installed(tool):
    assert shutil.which(tool), f"{tool} missing: scripts/test should have installed it"


def _declared() -> dict[str, Requirement]:
    import tomllib
    from pathlib import Path

    from packaging.utils import canonicalize_name

    project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())["project"]
    requirements = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]]
    return {canonicalize_name(r.name): r for r in requirements}


def test_every_dependency_has_a_tested_range_and_the_installed_version_is_in_it():
    """A dependency's next major can break walletsync (websockets' internals, web3's API): each has a ceiling,
    and what the test command installed lies inside the declared range."""
    from importlib.metadata import version

    for name, requirement in _declared().items():
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        assert any(spec.operator in ("<", "==", "~=") for spec in requirement.specifier), f"{name}: no upper bound"
        assert requirement.specifier.contains(version(name), prereleases=True), (
            f"{name} {version(name)} is outside {requirement.specifier}"
        )


def test_every_third_party_module_walletsync_imports_is_a_declared_dependency():
    """A module imported by walletsync but only present as someone else's dependency can vanish or jump a major."""
    import ast
    import sys
    from importlib.metadata import packages_distributions
    from pathlib import Path

    from packaging.utils import canonicalize_name

    owners = packages_distributions()
    declared = set(_declared())
    missing: dict[str, set[str]] = {}
    for path in (Path(__file__).resolve().parent.parent / "walletsync").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module]
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                else []
            )
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top == "walletsync":
                    continue
                dists = {canonicalize_name(d) for d in owners.get(top, [top])}
                if not dists & declared:
                    missing.setdefault(top, set()).add(path.name)
    assert missing == {}, f"imported but not declared in pyproject.toml: {missing}"
