"""The allowed imports of docs/architecture.md, read from the source (ast, every import statement
of every module, inside functions too), so a lazy import cannot slip past."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

import bolo

ROOT = Path(bolo.__file__).parent
PURE = ("cap", "network", "search")
DATABASE = ("sqlalchemy", "alembic", "psycopg", "bolo.store")
WEB = ("fastapi", "starlette", "jinja2", "uvicorn", "bolo.web", "bolo.api")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _path_of(module: str) -> Path | None:
    """The source file of a bolo module, or None (not bolo's, or not a module)."""
    base = ROOT.parent.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _parse(source: str, package: list[str]) -> frozenset[str]:
    """Every module ``source`` names in an import, absolute, at any depth of the file (function
    bodies too); for ``from X import Y`` both X and X.Y (Y may be a module). ``package`` is the
    package relative imports start from."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names.add(module)
            names |= {f"{module}.{alias.name}" for alias in node.names}
    return frozenset(names)


@cache
def _imports(path: Path) -> frozenset[str]:
    """Every module the file at ``path`` imports (see _parse)."""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    return _parse(path.read_text(encoding="utf-8"), package)


def _forbidden(names: frozenset[str]) -> list[str]:
    """The modules of the database or the web among ``names`` (X, not also X.Y)."""
    bad = {n for n in names if _within(n, DATABASE + WEB) or _is_db_model(n)}
    return sorted(n for n in bad if n.rpartition(".")[0] not in bad)


@cache
def _table_modules() -> frozenset[str]:
    """The modules that define database tables: the ones bolo/store/models.py registers."""
    return frozenset(
        n for n in _imports(ROOT / "store" / "models.py") if _path_of(n) and n.count(".") == 2
    )


def _is_db_model(module: str) -> bool:
    """A module that defines database tables, or a name taken from one."""
    return _within(module, tuple(_table_modules()))


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _reached(start: Path) -> dict[str, str]:
    """Every bolo module ``start`` reaches through imports (and the parent packages an import
    runs), each with the module that imports it."""
    seen: dict[str, str] = {}
    todo = [start]
    while todo:
        path = todo.pop()
        for name in _imports(path):
            parts = name.split(".")
            for i in range(2, len(parts) + 1):
                module = ".".join(parts[:i])
                target = _path_of(module)
                if parts[0] != "bolo" or target is None or module in seen:
                    continue
                seen[module] = _module_name(path)
                todo.append(target)
    return seen


def _forbidden_for_pure(path: Path) -> dict[str, str]:
    """What a pure module imports from the database or the web, itself or through the bolo
    modules it reaches: {"module imports name": the module that imported it}."""
    own = _module_name(path)
    chain = {own: own} | _reached(path)
    found = {}
    for module, importer in chain.items():
        source = _path_of(module)
        for name in _forbidden(_imports(source)) if source else []:
            found[f"{module} imports {name}"] = importer
    return found


@pytest.mark.parametrize("package", PURE)
def test_a_pure_package_imports_neither_the_database_nor_the_web(package: str) -> None:
    problems: dict[str, str] = {}
    for path in _files(package):
        problems |= _forbidden_for_pure(path)
    report = [f"{what} (reached from {importer})" for what, importer in sorted(problems.items())]
    assert report == [], "\n".join(report)


def test_cap_imports_nothing_from_security() -> None:
    # security builds on cap (its strict input check refuses what CAP cannot encode); cap
    # takes the SSRF guard it fetches through from outside (bolo.cap.fetch.install_url_guard),
    # so the two packages do not import each other.
    problems = [
        f"{module} imports {name}"
        for path in _files("cap")
        for module, name in [(_module_name(path), n) for n in _imports(path)]
        + [(m, n) for m, n in _reached_pairs(path)]
        if _within(name, ("bolo.security",))
    ]
    assert problems == [], "\n".join(sorted(set(problems)))


def _reached_pairs(start: Path) -> list[tuple[str, str]]:
    """(importer, module) for every bolo module ``start`` reaches through imports."""
    return [(importer, module) for module, importer in _reached(start).items()]


def test_security_imports_nothing_from_auth() -> None:
    # auth builds on security (its strict input check); an import back
    # would tie the two packages both ways.
    problems = [
        f"{_module_name(path)} imports {name}"
        for path in _files("security")
        for name in _imports(path)
        if _within(name, ("bolo.auth",)) and name.count(".") <= 2
    ]
    assert problems == [], "\n".join(problems)


def test_the_store_registers_tables_in_one_place() -> None:
    # store/models.py imports every table module (the migrations import it); the engine and
    # session code needs none of them.
    bolo_imports = {n for n in _imports(ROOT / "store" / "db.py") if _within(n, ("bolo",))}
    assert bolo_imports <= {"bolo.settings", "bolo.settings.get_settings"}


def test_the_checks_see_late_relative_and_indirect_imports() -> None:
    # The rules above are only as good as the import reader: an import in a function body, a
    # relative import and a module reached through another must all be seen.
    source = (
        "def f() -> None:\n    from bolo.store.db import session_scope\nfrom ..auth import deps\n"
    )
    names = _parse(source, ["bolo", "cap"])
    assert {"bolo.store.db", "bolo.auth", "bolo.auth.deps"} <= names
    assert _forbidden(names) == ["bolo.store.db"]
    assert _is_db_model("bolo.cases.model.Case") and _is_db_model("bolo.dispatch.runner.liveness")
    assert not _is_db_model("bolo.cap.model")
    assert "bolo.cap.errors" in _reached(ROOT / "cap" / "fetch.py")  # through cap.xmlsafe
    assert "bolo.cap.codec" in _reached(ROOT / "security" / "strictjson.py")
