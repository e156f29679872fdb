"""Handlers import the modules beside them by plain name, as in Lambda (whose task root is the
function's directory), without one function's modules clashing with another's."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.functions import functions

HANDLER = "import {sibling}\n\ndef lambda_handler(event, context):\n    return {sibling}.answer()\n"
COUNTER = "calls = 0\n\ndef answer():\n    global calls\n    calls += 1\n    return ({label!r}, calls)\n"


@pytest.fixture
def names() -> Iterator[list[str]]:
    """Unique module names for a test; they and the directories it adds leave with it."""
    made: list[str] = []
    path = list(sys.path)
    yield made
    sys.path[:] = path
    for name in list(sys.modules):
        if any(name == made_name or name.startswith(f"{made_name}.") for made_name in made):
            del sys.modules[name]


def function_dir(root: Path, name: str, siblings: dict[str, str]) -> Path:
    code = root / name
    code.mkdir()
    (code / "app.py").write_text(HANDLER.format(sibling=next(iter(siblings))))
    for sibling, label in siblings.items():
        (code / f"{sibling}.py").write_text(COUNTER.format(label=label))
    return code


def template_of(*code_dirs: Path) -> dict[str, Any]:
    resources = {
        f"Fn{i}": {
            "Type": "AWS::Serverless::Function",
            "Properties": {"CodeUri": str(code), "Handler": "app.lambda_handler"},
        }
        for i, code in enumerate(code_dirs)
    }
    return {"Resources": resources}


def unique(names: list[str], stem: str) -> str:
    name = f"{stem}_{uuid.uuid4().hex[:8]}"
    names.append(name)
    return name


def test_each_handler_imports_its_own_sibling_module(tmp_path: Path, names: list[str]) -> None:
    pages, routes = unique(names, "checkout_pages"), unique(names, "confirm_routes")
    loaded = functions(
        template_of(
            function_dir(tmp_path, "checkout", {pages: "checkout"}),
            function_dir(tmp_path, "confirm", {routes: "confirm"}),
        )
    )
    names += ["Fn0_app", "Fn1_app"]
    assert loaded["Fn0"].invoke({}) == ("checkout", 1)
    assert loaded["Fn1"].invoke({}) == ("confirm", 1)


def test_a_second_container_has_its_own_sibling_modules(tmp_path: Path, names: list[str]) -> None:
    pages = unique(names, "checkout_pages")
    (function,) = functions(template_of(function_dir(tmp_path, "checkout", {pages: "checkout"}))).values()
    first, second = unique(names, "first"), unique(names, "second")
    one, other = function.new_container(first), function.new_container(second)
    assert one.lambda_handler({}, None) == ("checkout", 1)
    assert one.lambda_handler({}, None) == ("checkout", 2)
    assert other.lambda_handler({}, None) == ("checkout", 1)  # not the first container's counter
    assert sys.modules[pages] is getattr(one, pages)  # plain name: still the first container's


def test_the_same_module_name_beside_two_handlers_is_refused(tmp_path: Path, names: list[str]) -> None:
    shared = unique(names, "pages")
    template = template_of(
        function_dir(tmp_path, "checkout", {shared: "checkout"}), function_dir(tmp_path, "confirm", {shared: "confirm"})
    )
    with pytest.raises(ImportError, match="need different names"):
        functions(template)


@pytest.mark.parametrize("shadowed", ["secrets", "http", "paysandbox"])
def test_a_module_beside_a_handler_may_not_shadow_the_stdlib_or_the_layer(tmp_path: Path, shadowed: str) -> None:
    with pytest.raises(ImportError, match="must not shadow"):
        functions(template_of(function_dir(tmp_path, "checkout", {shadowed: "checkout"})))
