"""`no_grad`, `enable_grad`, `set_grad_enabled`, `inference_mode`: context managers and
decorators over the Rust grad mode, which is per thread as in PyTorch."""

from __future__ import annotations

import functools
TYPE_CHECKING = False  # `typing` costs ~10 ms of import time; annotations are strings
if TYPE_CHECKING:
    from typing import Any, Callable

from . import _C


class _DecoratorContextManager:
    """A context manager that also decorates functions (each call runs inside it)."""

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)

        return wrapper

    def clone(self):
        return self.__class__()


class no_grad(_DecoratorContextManager):
    """Disables recording inside the block (`with ferrograd.no_grad():`)."""

    def __enter__(self) -> None:
        self.prev = _C._set_grad_enabled(False)

    def __exit__(self, *exc: Any) -> None:
        _C._set_grad_enabled(self.prev)


class enable_grad(_DecoratorContextManager):
    """Enables recording inside the block, even within `no_grad`."""

    def __enter__(self) -> None:
        self.prev = _C._set_grad_enabled(True)

    def __exit__(self, *exc: Any) -> None:
        _C._set_grad_enabled(self.prev)


class set_grad_enabled(_DecoratorContextManager):
    """Sets grad mode now (`set_grad_enabled(False)`); as a context manager, restores the
    previous mode on exit."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.prev = _C._set_grad_enabled(self.mode)

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        # As a decorator, the mode applies inside each call only (PyTorch restores it here).
        _C._set_grad_enabled(self.prev)
        return super().__call__(func)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: Any) -> None:
        _C._set_grad_enabled(self.prev)

    def clone(self):
        prev = _C.is_grad_enabled()
        c = self.__class__(self.mode)
        c.prev = prev
        return c


class inference_mode(_DecoratorContextManager):
    """`no_grad` (ferrograd has no separate inference tensors): `inference_mode(False)`
    leaves grad mode as it is."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)

    def __enter__(self) -> None:
        self.prev = _C._set_grad_enabled(False) if self.mode else _C.is_grad_enabled()

    def __exit__(self, *exc: Any) -> None:
        _C._set_grad_enabled(self.prev)

    def clone(self):
        return self.__class__(self.mode)


def is_inference_mode_enabled() -> bool:
    """Always `False`: ferrograd's `inference_mode` is `no_grad`."""
    return False
