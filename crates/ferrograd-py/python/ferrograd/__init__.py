"""ferrograd: PyTorch's autograd, in Rust.

`import ferrograd as torch` runs define-by-run autograd code written for PyTorch: tensors
record the operations applied to them, and `backward()` / `autograd.grad()` give exact
derivatives of any order.

>>> import ferrograd as torch
>>> x = torch.tensor(5.0, requires_grad=True)
>>> y = x ** 2
>>> y.backward()
>>> x.grad
tensor(10.)
"""

from __future__ import annotations

import math as _math

from . import _C
from ._C import Tensor, dtype, float32, float64, int64, is_grad_enabled, manual_seed
from . import _registry, _overloads, _indexing  # noqa: F401  (install methods)
from ._creation import *  # noqa: F401,F403
from ._creation import tensor  # noqa: F811
from ._grad_mode import enable_grad, inference_mode, is_inference_mode_enabled, no_grad, set_grad_enabled
from ._overloads import Device as device
from ._overloads import Size

bool = _C.bool  # noqa: A001  (torch.bool)
pi, e, inf, nan = _math.pi, _math.e, _math.inf, _math.nan
float = float32  # noqa: A001
double = float64
long = int64

_registry.install(globals())
_overloads.install(globals())

from . import autograd, nn  # noqa: E402
from . import func  # noqa: E402
from . import linalg  # noqa: E402
from . import special  # noqa: E402
from . import return_types  # noqa: E402
from . import viz  # noqa: E402
from ._tape import GradientTape  # noqa: E402

__version__ = "0.1.0"


def is_tensor(obj) -> "builtins.bool":  # type: ignore[name-defined]
    """Whether `obj` is a ferrograd tensor."""
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    """The number of elements."""
    return input.numel()


def get_default_dtype():
    """Always `float32`."""
    return float32


def is_floating_point(input: Tensor) -> "builtins.bool":  # type: ignore[name-defined]
    """Whether `input` has a floating dtype."""
    return input.is_floating_point()
