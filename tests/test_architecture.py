"""The functional core stays framework-free: nothing under blauweknop.protocol imports Django."""

import ast
import subprocess
import sys
from pathlib import Path

import blauweknop.protocol

PROTOCOL = Path(blauweknop.protocol.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_protocol_module_imports_django():
    modules = sorted(PROTOCOL.rglob("*.py"))
    assert len(modules) >= 8
    offenders = {
        str(path.relative_to(PROTOCOL)): name
        for path in modules
        for name in _imported_modules(path)
        if name == "django" or name.startswith(("django.", "ninja"))
    }
    assert offenders == {}


def test_importing_the_protocol_loads_no_django_at_run_time():
    code = (
        "import sys, pkgutil, importlib, blauweknop.protocol as p\n"
        "for m in pkgutil.iter_modules(p.__path__): importlib.import_module('blauweknop.protocol.' + m.name)\n"
        "print(sorted(n for n in sys.modules if n == 'django' or n.startswith('django.')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# Each role's apps, as settings.ROLE_APPS installs them; the apps every deployment has are shared.
BLAUWEKNOP = PROTOCOL.parent
ROLE_OF_APP = {"scheme": "scheme", "holder": "holder", "audit": "holder", "portal": "portal", "requester": "requester"}


def _role_modules():
    for app, role in ROLE_OF_APP.items():
        for path in sorted((BLAUWEKNOP / app).rglob("*.py")):
            yield app, role, path


# Shared code that happens to live in a role's folder: every role fetches the scheme document.
SHARED = ("blauweknop.scheme.client",)


def test_no_role_app_imports_another_roles_code():
    offenders = {
        f"{app}/{path.relative_to(BLAUWEKNOP / app)}": name
        for app, role, path in _role_modules()
        for name in _imported_modules(path)
        for other, other_role in ROLE_OF_APP.items()
        if other_role != role
        and (name == f"blauweknop.{other}" or name.startswith(f"blauweknop.{other}."))
        and name not in SHARED
    }
    assert offenders == {}


def test_only_the_scheme_operator_reads_the_catalogue_files():
    # Holders and portals take the catalogue from the signed scheme document (blauweknop.document_types).
    offenders = {
        str(path.relative_to(BLAUWEKNOP)): name
        for app, role, path in _role_modules()
        if role != "scheme"
        for name in _imported_modules(path)
        if name.startswith("blauweknop.scheme.catalogue")
    }
    assert offenders == {}


def test_no_roles_migrations_depend_on_another_roles_app():
    from django.db.migrations.loader import MigrationLoader

    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    offenders = [
        (node, dependency)
        for node in graph.nodes
        if node[0] in ROLE_OF_APP
        for dependency in graph.node_map[node].parents
        if dependency.key[0] in ROLE_OF_APP and ROLE_OF_APP[dependency.key[0]] != ROLE_OF_APP[node[0]]
    ]
    assert offenders == []
