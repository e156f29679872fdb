"""The template's Lambda functions, loaded the way Lambda loads them.

Each function's handler is imported from its CodeUri by its ``Handler`` string under a unique
module name (every function's module is ``app``). One lock per function stands for its one
warm container: Lambda never runs two invocations in one container at once, and handler
modules rely on that. Functions behind the API share one lock: Powertools' REST resolver keeps
the current event on a class attribute (``BaseRouter.current_event``), one per process, so two
API functions running at once here would read each other's request.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from sandbox.apigw import LambdaContext
from sandbox.template import ROOT, load_template, resources_of_type

LAYER_PATH = ROOT / "layers" / "common"
API_LOCK = threading.Lock()  # see the module docstring


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

    def load(self) -> ModuleType:
        if self._module is None:
            if str(LAYER_PATH) not in sys.path:
                sys.path.insert(0, str(LAYER_PATH))
            name = f"{self.logical_id}_{self.module_file.stem}"
            spec = importlib.util.spec_from_file_location(name, self.module_file)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {self.module_file}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            self._module = module
        return self._module

    def invoke(self, event: dict[str, Any]) -> Any:
        """Run the handler with a Lambda context, one invocation at a time."""
        entry = getattr(self.load(), self.handler.rpartition(".")[2])
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
    return found
