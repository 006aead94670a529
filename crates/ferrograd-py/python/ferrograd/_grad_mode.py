"""`no_grad`, `enable_grad`, `set_grad_enabled`, `inference_mode`: context managers and
decorators over the Rust grad mode, which is per thread as in PyTorch."""

from __future__ import annotations

import functools
TYPE_CHECKING = False  # `typing` costs ~10 ms of import time; annotations are strings
if TYPE_CHECKING:
    from typing import Any, Callable

from . import _C


_CO_GENERATOR = 0x20  # `inspect.CO_GENERATOR`, without importing `inspect`


class _DecoratorContextManager:
    """A context manager that also decorates functions (each call runs inside it) and
    generator functions (each step runs inside it, as PyTorch's do)."""

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if getattr(getattr(func, "__code__", None), "co_flags", 0) & _CO_GENERATOR:
            return self._wrap_generator(func)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)

        return wrapper

    def _wrap_generator(self, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            gen = func(*args, **kwargs)
            try:
                with self.clone():
                    response = gen.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with self.clone():
                            gen.close()
                        raise
                    except BaseException as e:
                        with self.clone():
                            response = gen.throw(e)
                    else:
                        with self.clone():
                            response = gen.send(request)
            except StopIteration as e:
                return e.value

        return wrapper

    def clone(self):
        return self.__class__()


class _BareDecorator(_DecoratorContextManager):
    """Also usable as a bare decorator (`@no_grad`, without the call), as in PyTorch 2."""

    def __new__(cls, orig_func: Any = None):
        if orig_func is None:
            return super().__new__(cls)
        if not callable(orig_func):
            raise TypeError(f"{cls.__name__}() takes no arguments (got {orig_func!r})")
        return cls()(orig_func)


class no_grad(_BareDecorator):
    """Disables recording inside the block (`with ferrograd.no_grad():`)."""

    def __enter__(self) -> None:
        self.prev = _C._set_grad_enabled(False)

    def __exit__(self, *exc: Any) -> None:
        _C._set_grad_enabled(self.prev)


class enable_grad(_BareDecorator):
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

    def __new__(cls, mode: Any = True):
        if callable(mode):  # a bare `@inference_mode`
            return cls()(mode)
        return super().__new__(cls)

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
