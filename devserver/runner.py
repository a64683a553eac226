"""Invoke the template's handlers in this process, one invocation at a time.

Each function is a "container": its module is imported once (under a unique name, so every
``functions/<name>/app.py`` can be called ``app``) and its environment (Globals + function
variables, intrinsics resolved to the local resources) is in ``os.environ`` while it runs.
The process environment is shared, so invocations are serialised, which is also what a
Lambda container does.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from devserver.app_model import AppModel, FunctionSpec
from devserver.events import LambdaContext

log = logging.getLogger("devserver.runner")


class InvocationError(RuntimeError):
    """The handler raised; ``traceback_text`` is what Lambda would log."""

    def __init__(self, function: str, exc: BaseException) -> None:
        super().__init__(f"{function} failed: {type(exc).__name__}: {exc}")
        self.function = function
        self.traceback_text = "".join(traceback.format_exception(exc))


class FunctionRunner:
    """Loads handler modules lazily and calls them with their own environment."""

    def __init__(
        self,
        model: AppModel,
        environments: Mapping[str, Mapping[str, str]],
        *,
        region: str = "us-east-1",
        on_environment_change: Callable[[], None] | None = None,
    ) -> None:
        self.model = model
        self.environments = {k: dict(v) for k, v in environments.items()}
        self.region = region
        self._on_environment_change = on_environment_change or _reset_settings
        self._modules: dict[str, ModuleType] = {}
        self._lock = threading.RLock()
        self._current: str | None = None

    def function_names(self) -> list[str]:
        return sorted(self.model.functions)

    def invoke(self, function: str, event: Any) -> Any:
        """Run ``function``'s handler with ``event``; raise ``InvocationError`` if it raises."""
        spec = self.model.functions[function]
        with self._lock:
            self._enter(spec)
            context = LambdaContext(
                function,
                memory_mb=spec.memory_size,
                timeout_s=spec.timeout,
                region=self.region,
            )
            started = time.monotonic()
            try:
                handler = self._handler(spec)
                return handler(event, context)
            except Exception as exc:
                raise InvocationError(function, exc) from exc
            finally:
                elapsed = (time.monotonic() - started) * 1000
                if elapsed > spec.timeout * 1000:
                    # Lambda would have killed it: make the overrun visible locally.
                    log.warning(
                        "%s ran %.0f ms, over its %d s timeout", function, elapsed, spec.timeout
                    )

    # -- internals -------------------------------------------------------------------------
    def _enter(self, spec: FunctionSpec) -> None:
        """Put the function's environment in place (only when switching functions)."""
        if self._current == spec.logical_id:
            return
        previous = self.environments.get(self._current or "", {})
        wanted = self.environments.get(spec.logical_id, {})
        # Only drop what the next function lacks: shared values (credentials) never vanish
        # under a background thread's feet.
        for key in previous.keys() - wanted.keys():
            os.environ.pop(key, None)
        os.environ.update(wanted)
        self._current = spec.logical_id
        self._on_environment_change()

    def _handler(self, spec: FunctionSpec) -> Callable[[Any, Any], Any]:
        module = self._modules.get(spec.logical_id)
        if module is None:
            module = self._import(spec)
            self._modules[spec.logical_id] = module
        return getattr(module, spec.handler_name)

    def _import(self, spec: FunctionSpec) -> ModuleType:
        name = f"_devserver_fn_{spec.logical_id}"
        module_spec = importlib.util.spec_from_file_location(name, spec.module_file)
        if module_spec is None or module_spec.loader is None:
            raise ImportError(f"cannot load {spec.module_file}")
        module = importlib.util.module_from_spec(module_spec)
        # Lambda puts the function's code directory on sys.path (LAMBDA_TASK_ROOT).
        code_dir = str(spec.code_dir)
        sys.path.insert(0, code_dir)
        try:
            sys.modules[name] = module
            module_spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        finally:
            sys.path.remove(code_dir)
        return module


def _reset_settings() -> None:
    """Settings are cached per container; a new function means a new environment."""
    try:
        from ecomvideo.settings import reset_settings
    except ImportError:  # pragma: no cover - layer not importable
        return
    reset_settings()
