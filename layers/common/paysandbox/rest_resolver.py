"""Powertools' REST resolver, loaded without every other resolver and event class it ships.

``aws_lambda_powertools.event_handler``'s package ``__init__`` imports every resolver Powertools
has (AppSync's brings all of ``asyncio``; Bedrock, VPC Lattice, function URLs...), and
``utilities.data_classes``'s imports every event class (S3, Kafka, Cognito...), though an API
function uses one resolver and one event class: about 0.1x of figure 1's baseline
(``docs/cold-start.md``). Here both packages are registered with their ``__init__`` not run
yet, then ``event_handler.api_gateway`` is imported as usual.

Nothing is lost to other code in the same process (the local sandbox, the tests): a name
asked of either package is imported, when asked, from the submodule its ``__init__`` imports
it from (a module ``__getattr__``, PEP 562), so ``from aws_lambda_powertools.event_handler
import AppSyncResolver`` still works. The event classes the REST resolver needs are listed
below so that its cold start reads no source; if Powertools moves one, the fallback finds
it: slower, never broken.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

# The names ``event_handler.api_gateway`` imports from ``utilities.data_classes``, by submodule.
_API_GATEWAY_EVENT_CLASSES = {
    "ALBEvent": "alb_event",
    "APIGatewayProxyEvent": "api_gateway_proxy_event",
    "APIGatewayProxyEventV2": "api_gateway_proxy_event",
    "BedrockAgentEvent": "bedrock_agent_event",
    "LambdaFunctionUrlEvent": "lambda_function_url_event",
    "VPCLatticeEvent": "vpc_lattice",
    "VPCLatticeEventV2": "vpc_lattice",
}


def _package_on_demand(name: str, known: dict[str, str]) -> None:
    """Register package ``name`` (unless imported already) without running its ``__init__``;
    a name asked of it is imported from the submodule that defines it (``known``, else where
    its ``__init__`` imports it from)."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise ImportError(name)
    package = importlib.util.module_from_spec(spec)
    origins: dict[str, tuple[str, str]] = {}

    def __getattr__(attribute: str) -> Any:
        if attribute in known:
            return getattr(importlib.import_module(f"{name}.{known[attribute]}"), attribute)
        if not attribute.startswith("__") and importlib.util.find_spec(f"{name}.{attribute}"):
            raise AttributeError(attribute)  # a submodule: the import system loads it next
        if not origins:
            origins.update(_init_imports(name, Path(str(spec.origin))))
        if attribute in origins:
            module, original = origins[attribute]
            return getattr(importlib.import_module(module), original)
        if attribute == "__all__":
            return sorted(origins)
        raise AttributeError(f"module {name!r} has no attribute {attribute!r}")

    vars(package)["__getattr__"] = __getattr__
    sys.modules[name] = package
    parent, _, child = name.rpartition(".")
    setattr(sys.modules[parent], child, package)


def _init_imports(package: str, init_file: Path) -> dict[str, tuple[str, str]]:
    """The names a package's ``__init__`` imports: name -> (absolute module, name there).

    Read from its source rather than by running it: a submodule that imports a name from its
    own package (``sqs_event`` takes ``S3Event`` from ``data_classes``) must not start the
    ``__init__``, which would import that half-loaded submodule again. Never on an API function's
    cold start (the names it needs are known, or submodules).
    """
    import ast

    found = {}
    for node in ast.parse(init_file.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.module:
            module = f"{package}.{node.module}" if node.level == 1 else node.module
            found.update({alias.asname or alias.name: (module, alias.name) for alias in node.names})
    return found


def _defer_package_inits() -> None:
    importlib.import_module("aws_lambda_powertools.utilities")
    _package_on_demand("aws_lambda_powertools.utilities.data_classes", _API_GATEWAY_EVENT_CLASSES)
    _package_on_demand("aws_lambda_powertools.event_handler", {})


_defer_package_inits()  # before the imports below; every handler imports the resolver from here

from aws_lambda_powertools.event_handler import content_types  # noqa: E402
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver, Response  # noqa: E402

__all__ = ["APIGatewayRestResolver", "Response", "content_types"]
