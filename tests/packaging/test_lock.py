"""requirements.lock: one pinned version of every dependency of bolo and its extras, allowed by
pyproject.toml, and the versions `make install` (and so CI, through `make test`) installs."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
LOCK = REPO / "requirements.lock"


def _pins() -> dict[str, str]:
    """The lock's ``name==version`` lines, by canonical name."""
    pins: dict[str, str] = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)
        if match:
            name = canonicalize_name(match.group(1))
            assert name not in pins, f"{name} pinned twice"
            pins[name] = match.group(2)
        else:
            assert not line or line.startswith(("#", " ")), f"not a pin: {line!r}"
    return pins


def _declared() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        lines += extra
    return [r for r in map(Requirement, lines) if canonicalize_name(r.name) != "bolo"]


def test_every_declared_dependency_is_pinned_within_its_range() -> None:
    pins = _pins()
    missing = [str(r) for r in _declared() if canonicalize_name(r.name) not in pins]
    assert missing == [], f"not in requirements.lock (run make lock): {missing}"
    outside = [
        f"{r} locked at {pins[canonicalize_name(r.name)]}"
        for r in _declared()
        if not r.specifier.contains(pins[canonicalize_name(r.name)], prereleases=True)
    ]
    assert outside == [], f"the lock is older than pyproject.toml (run make lock): {outside}"


def test_make_install_applies_the_lock() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    installs = [line for line in makefile.splitlines() if "pip install" in line and "-e " in line]
    assert len(installs) == 2 and all("-c $(LOCK)" in line for line in installs), installs
    assert re.search(r"^LOCK := requirements\.lock$", makefile, re.MULTILINE)


def test_this_environment_has_the_locked_versions() -> None:
    # make install, make test and CI install through the lock: what the tests run on is what
    # a fresh clone gets. A difference here means the venv predates the lock: make install.
    pins = _pins()
    different = {}
    for requirement in _declared():
        name = canonicalize_name(requirement.name)
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue  # e.g. only the runtime install (make demo)
        if installed != pins[name]:
            different[name] = (installed, pins[name])
    assert different == {}, f"installed != locked (run make install): {different}"
