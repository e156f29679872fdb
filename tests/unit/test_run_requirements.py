"""`make run` installs only requirements-run.txt: every package the running code imports
must come from it (directly or as a dependency), never from the test toolchain."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import PackageNotFoundError, packages_distributions, requires

from tests.support import ROOT

RUNTIME_CODE = ("sandbox", "functions", "layers/common/paysandbox")


def _requirement_names(path: str) -> set[str]:
    names: set[str] = set()
    for line in (ROOT / path).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("-r "):
            names |= _requirement_names(line[3:].strip())
        elif line:
            names.add(_normal(re.split(r"[\[=<>!~ ;]", line)[0]))
    return names


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _closure(names: set[str]) -> set[str]:
    """The distributions installing ``names`` brings in (extras other than those named left out)."""
    found, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        try:
            needed = requires(name) or []
        except PackageNotFoundError:
            continue
        todo += [_normal(re.split(r"[\[=<>!~ ;(]", r)[0]) for r in needed if "extra ==" not in r]
    return found


def _imported_top_level_modules() -> set[str]:
    modules = set()
    for folder in RUNTIME_CODE:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.split(".")[0])
    beside_handlers = {path.stem for path in (ROOT / "functions").glob("*/*.py")}  # app and its siblings
    return modules - set(sys.stdlib_module_names) - {"paysandbox", "sandbox", "harness"} - beside_handlers


def test_everything_the_running_code_imports_is_installed_by_make_run() -> None:
    installed_by_run = _closure(_requirement_names("requirements-run.txt"))
    distributions = packages_distributions()
    for module in sorted(_imported_top_level_modules()):
        owners = {_normal(d) for d in distributions.get(module, [])}
        assert owners, f"{module} is imported by the running code but installed by nothing"
        assert owners & installed_by_run, f"{module} ({owners}) is not in requirements-run.txt's closure"


def test_make_run_does_not_install_the_test_toolchain() -> None:
    installed_by_run = _closure(_requirement_names("requirements-run.txt"))
    for tool in ("pytest", "playwright", "ruff", "mypy", "cfn-lint", "schemathesis"):
        assert tool not in installed_by_run
