"""The template's Lambda functions, loaded the way Lambda loads them.

Lambda's init puts the function's directory (its task root) first on ``sys.path``, then the
layer, and imports the handler module by its plain name, so a handler imports the modules beside
it (its siblings) by plain name too. Here every function shares one interpreter: each handler
module is registered under a unique name (every function's module is ``app``), every function
directory goes on ``sys.path``, and sibling modules must be named uniquely across functions
(``functions()`` refuses a clash, or a sibling shadowing the standard library or the layer).

One lock per function stands for its one warm container: Lambda never runs two invocations in
one container at once, and handler modules rely on that. Functions behind the API share one
lock: Powertools' REST resolver keeps the current event on a class attribute
(``BaseRouter.current_event``), one per process, so two API functions running at once here
would read each other's request.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from sandbox.apigw import LambdaContext
from sandbox.template import ROOT, load_template, resources_of_type

LAYER_PATH = ROOT / "layers" / "common"
API_LOCK = threading.Lock()  # see the module docstring

# Called with (function, module) after each container's import. The test suite's IAM check
# (harness/aws_calls.py) wraps the handler here, so every way of loading one is covered.
container_hooks: list[Callable[[Function, ModuleType], None]] = []


@dataclass
class Function:
    logical_id: str
    code_uri: Path
    handler: str
    timeout: float
    memory: int
    events: dict[str, Any]
    environment: dict[str, Any]
    _module: ModuleType | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def module_file(self) -> Path:
        module_path, _, _ = self.handler.rpartition(".")
        return self.code_uri / (module_path.replace(".", "/") + ".py")

    @property
    def entry(self) -> str:
        """The handler function's name in its module (``lambda_handler``)."""
        return self.handler.rpartition(".")[2]

    @property
    def siblings(self) -> set[str]:
        """Top-level modules and packages beside the handler module, importable by plain name."""
        handler_top = self.handler.split(".")[0]
        found = {p.stem for p in self.code_uri.glob("*.py")}
        found |= {p.parent.name for p in self.code_uri.glob("*/__init__.py")}
        return found - {handler_top}

    def load(self) -> ModuleType:
        """This function's handler module (its one warm container), imported on first use."""
        if self._module is None:
            self._module = self.new_container(f"{self.logical_id}_{self.module_file.stem}")
        return self._module

    def new_container(self, module_name: str) -> ModuleType:
        """A fresh import of the handler module as ``module_name``, with its own sibling modules.

        Siblings an earlier container of this function imported are set aside while this one
        imports its own, then put back (this container's stay reachable as
        ``<module_name>.<sibling>``): two containers never share a sibling's state, such as a
        Powertools router bound to one resolver. A sibling imported lazily, inside a handler,
        resolves to the first container's, as the layer's modules do for every container."""
        for path in (LAYER_PATH, self.code_uri):  # inserted in turn: the task root ends up first
            if str(path) not in sys.path:
                sys.path.insert(0, str(path))
        spec = importlib.util.spec_from_file_location(module_name, self.module_file)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {self.module_file}")
        module = importlib.util.module_from_spec(spec)
        earlier = {name: sys.modules.pop(name) for name in self.siblings if name in sys.modules}
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[module_name]
            raise
        finally:
            if earlier:
                for name in self.siblings:
                    own = sys.modules.pop(name, None)
                    if own is not None:
                        sys.modules[f"{module_name}.{name}"] = own
                sys.modules.update(earlier)
        for hook in container_hooks:
            hook(self, module)
        return module

    def invoke(self, event: dict[str, Any]) -> Any:
        """Run the handler with a Lambda context, one invocation at a time."""
        entry = getattr(self.load(), self.entry)
        with self._lock:
            return entry(event, LambdaContext(function_name=self.logical_id, timeout_seconds=self.timeout))


def functions(template: dict[str, Any] | None = None) -> dict[str, Function]:
    template = template or load_template()
    globals_ = template.get("Globals", {}).get("Function", {})
    found = {}
    for logical_id, resource in resources_of_type("AWS::Serverless::Function", template).items():
        props = {**globals_, **resource["Properties"]}
        env = {
            **globals_.get("Environment", {}).get("Variables", {}),
            **resource["Properties"].get("Environment", {}).get("Variables", {}),
        }
        found[logical_id] = Function(
            logical_id=logical_id,
            code_uri=ROOT / props["CodeUri"],
            handler=props["Handler"],
            timeout=float(props.get("Timeout", 3)),
            memory=int(props.get("MemorySize", 128)),
            events=resource["Properties"].get("Events", {}),
            environment=env,
        )
        if any(event.get("Type") == "Api" for event in found[logical_id].events.values()):
            found[logical_id]._lock = API_LOCK
    check_sibling_names(found.values())
    return found


def check_sibling_names(found: Iterable[Function]) -> None:
    """Refuse sibling modules that would clash in one interpreter (each Lambda has its own):
    the same name beside two functions' handlers, or a name of the standard library or the layer."""
    layer_names = {p.stem for p in LAYER_PATH.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    owners: dict[str, Path] = {}
    for function in found:
        for name in sorted(function.siblings):
            where = function.code_uri / name
            if name in sys.stdlib_module_names or name in layer_names:
                raise ImportError(f"{where}: a module beside a handler must not shadow {name!r}")
            owner = owners.setdefault(name, function.code_uri)
            if owner != function.code_uri:
                raise ImportError(
                    f"{where} and {owner / name}: modules beside different handlers need different names "
                    "(name them after their function, e.g. checkout_pages)"
                )
