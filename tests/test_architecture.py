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
