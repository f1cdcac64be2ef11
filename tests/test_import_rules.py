"""The architecture's import rules (conventions.md), checked on the source text of every module."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
WEB_FRAMEWORKS = ("fastapi", "starlette", "uvicorn", "jinja2")
DATABASE_LAYER = ("sqlalchemy", "alembic", "psycopg", "revlens.db")


def _module_name(path: Path, root: Path = SRC) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, root: Path = SRC) -> Iterator[str]:
    """Yield every module an import statement in the file names, relative ones resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = _module_name(path, root).split(".")
    if path.name != "__init__.py":
        package.pop()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            # `from revlens import stripe_api` imports the submodule, not only `revlens`.
            yield from (f"{module}.{alias.name}" for alias in node.names if alias.name != "*")


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def violations() -> list[str]:
    """Return a line per forbidden import found under src/."""
    found: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        importer = _module_name(path)
        for imported in _imports(path):
            rule = _broken_rule(importer, imported)
            if rule:
                found.append(f"{path.relative_to(SRC)}: imports {imported}: {rule}")
    return found


def _broken_rule(importer: str, imported: str) -> str | None:
    if _within(importer, ("stripe_emulator",)):
        if _within(imported, ("revlens",)):
            return "stripe_emulator never imports revlens"
        if _within(imported, ("stripe",)):
            return "stripe_emulator is the server; it does not use the SDK"
        return None
    if _within(imported, ("stripe_emulator",)) and importer != "revlens.cli":
        return "only revlens.cli imports stripe_emulator"
    if _within(imported, ("stripe",)) and not _within(importer, ("revlens.stripe_api",)):
        return "only revlens.stripe_api imports stripe"
    if _within(importer, ("revlens.analytics",)) and _within(imported, (*DATABASE_LAYER, "stripe")):
        return "revlens.analytics is pure: no database layer, no stripe"
    if _within(imported, WEB_FRAMEWORKS) and not _within(importer, ("revlens.web",)):
        if importer == "revlens.cli" and imported == "uvicorn":
            return None  # `revlens serve` starts the server that runs the app
        return "only revlens.web imports the web framework"
    if _within(imported, ("huey",)) and not _within(importer, ("revlens.tasks",)):
        return "only revlens.tasks imports the queue library"
    return None


def test_the_source_keeps_the_import_rules() -> None:
    assert violations() == []


@pytest.mark.parametrize(
    ("importer", "imported", "broken"),
    [
        ("stripe_emulator.app", "revlens.config", True),
        ("stripe_emulator.app", "stripe", True),
        ("revlens.mirror.backfill", "stripe_emulator.server", True),
        ("revlens.cli", "stripe_emulator.cli", False),
        ("revlens.mirror.backfill", "stripe", True),
        ("revlens.stripe_api.client", "stripe", False),
        ("revlens.analytics.mrr", "sqlalchemy.orm", True),
        ("revlens.analytics.mrr", "revlens.db.session", True),
        ("revlens.analytics.mrr", "stripe", True),
        ("revlens.accounts.service", "fastapi", True),
        ("revlens.web.app", "fastapi", False),
        ("revlens.cli", "uvicorn", False),
        ("revlens.mirror.sync", "huey", True),
        ("revlens.tasks.queue", "huey", False),
        ("revlens.accounts.service", "stripe_api", False),
    ],
)
def test_each_rule_catches_what_it_forbids(importer: str, imported: str, broken: bool) -> None:
    assert (_broken_rule(importer, imported) is not None) is broken


def test_relative_imports_are_resolved(tmp_path: Path) -> None:
    package = tmp_path / "revlens" / "web" / "routes"
    package.mkdir(parents=True)
    module = package / "health.py"
    module.write_text("from . import pages\nfrom ..deps import x\nfrom ... import stripe_api\n")
    init = package / "__init__.py"
    init.write_text("from .pages import y\n")
    assert set(_imports(module, tmp_path)) == {
        "revlens.web.routes.pages",
        "revlens.web.deps.x",
        "revlens.stripe_api",
    }
    assert set(_imports(init, tmp_path)) == {"revlens.web.routes.pages.y"}


def test_a_submodule_imported_by_name_is_caught(tmp_path: Path) -> None:
    package = tmp_path / "revlens" / "analytics"
    package.mkdir(parents=True)
    module = package / "mrr.py"
    module.write_text("from revlens import db\n")
    rules = {_broken_rule("revlens.analytics.mrr", m) for m in _imports(module, tmp_path)}
    assert "revlens.analytics is pure: no database layer, no stripe" in rules


def test_importing_everything_builds_nothing(tmp_path: Path) -> None:
    """Importing every module reads no setting, creates no file and opens no connection."""
    modules = sorted(
        _module_name(p)
        for p in SRC.rglob("*.py")
        if "migrations" not in p.parts and p.name != "__main__.py"
    )
    code = "import importlib,sys\nfor m in sys.argv[1:]:\n    importlib.import_module(m)\n"
    environ = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path / "home"),
        "REVLENS_DATABASE_URL": "mysql://this-would-fail-if-read",
    }
    result = subprocess.run(
        [sys.executable, "-c", code, *modules],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []
