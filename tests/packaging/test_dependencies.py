"""pyproject.toml: every runtime dependency is used by bolo itself (what only benchmarks or
tests import belongs in the bench or dev extra), and the license is the PEP 639 expression
with its text shipped."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Distribution name -> the module it provides, where they differ.
IMPORT_NAMES = {
    "pydantic-settings": "pydantic_settings",
    "nats-py": "nats",
    "paho-mqtt": "paho",
    "prometheus-client": "prometheus_client",
    "argon2-cffi": "argon2",
    "pillow": "PIL",
}
# Used without an import statement of bolo's own.
INDIRECT = {
    "psycopg": "SQLAlchemy's postgresql+psycopg driver",
    "python-multipart": "FastAPI's form parsing (the tip form, the console)",
}


def _project() -> dict[str, object]:
    project: dict[str, object] = tomllib.loads(
        (REPO / "pyproject.toml").read_text(encoding="utf-8")
    )["project"]
    return project


def _imported(module: str, folder: Path) -> bool:
    pattern = re.compile(rf"^\s*(import|from) {re.escape(module)}(\.|\s|$)", re.MULTILINE)
    return any(pattern.search(p.read_text(encoding="utf-8")) for p in folder.rglob("*.py"))


def test_every_runtime_dependency_is_used_by_bolo() -> None:
    deps = _project()["dependencies"]
    assert isinstance(deps, list)
    unused = []
    for requirement in deps:
        name = re.split(r"[\[<>=~! ]", requirement, maxsplit=1)[0].lower()
        module = IMPORT_NAMES.get(name, name.replace("-", "_"))
        if name not in INDIRECT and not _imported(module, REPO / "bolo"):
            unused.append(name)
    assert unused == [], f"not imported by bolo/: move to an extra or drop: {unused}"


def test_license_is_a_pep_639_expression_with_its_text() -> None:
    project = _project()
    assert project["license"] == "AGPL-3.0-or-later"
    assert project["license-files"] == ["LICENSE"]
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.lstrip().startswith("GNU AFFERO GENERAL PUBLIC LICENSE")
    assert "Version 3, 19 November 2007" in text
