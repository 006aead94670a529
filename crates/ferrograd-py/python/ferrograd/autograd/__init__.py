"""`ferrograd.autograd`: `grad`, `backward`, anomaly detection, and (in submodules)
`functional`, `forward_ad`, custom `Function`s and `gradcheck`."""

from __future__ import annotations

TYPE_CHECKING = False  # `typing` costs ~10 ms of import time; annotations are strings
if TYPE_CHECKING:
    from typing import Any, Optional, Sequence, Tuple, Union

    _TensorOrTensors = Union[Tensor, Sequence[Tensor]]

from .. import _C
from .._grad_mode import enable_grad, inference_mode, no_grad, set_grad_enabled

Tensor = _C.Tensor


def _as_tuple(x: Any) -> Tuple[Any, ...]:
    if x is None:
        return ()
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def grad(
    outputs: _TensorOrTensors,
    inputs: _TensorOrTensors,
    grad_outputs: Optional[_TensorOrTensors] = None,
    retain_graph: Optional[bool] = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: Optional[bool] = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
) -> Tuple[Optional[Tensor], ...]:
    """The gradients of `outputs` with respect to `inputs` (a tuple, one per input).

    `grad_outputs` weights each output (`None`: ones for a one-element output);
    `create_graph=True` records the backward pass so the result can be differentiated again;
    `allow_unused=True` gives `None` for an input the outputs do not depend on
    (`materialize_grads=True`: zeros instead).
    """
    if is_grads_batched:
        raise RuntimeError("is_grads_batched=True is not supported yet; use ferrograd.func.vmap")
    if materialize_grads and allow_unused is False:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True, "
            "but got: allow_unused=False."
        )
    allow = bool(allow_unused) or materialize_grads
    outs = _as_tuple(outputs)
    ins = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    for i in ins:
        if not isinstance(i, Tensor):
            raise RuntimeError(
                f"all inputs have to be Tensors or GradientEdges, but got {type(i).__name__}"
            )
    gos = None if grad_outputs is None else list(_as_tuple(grad_outputs))
    res = _C._grad(list(outs), list(ins), gos, retain_graph, create_graph, allow)
    if materialize_grads:
        res = [g if g is not None else _C._full(list(i.shape), 0.0, i.dtype)
               for g, i in zip(res, ins)]
    return tuple(res)


def backward(
    tensors: _TensorOrTensors,
    grad_tensors: Optional[_TensorOrTensors] = None,
    retain_graph: Optional[bool] = None,
    create_graph: bool = False,
    grad_variables: Any = None,
    inputs: Optional[_TensorOrTensors] = None,
) -> None:
    """Accumulates the gradients of `tensors` into the leaves' `.grad` (or into `inputs`)."""
    if grad_variables is not None:
        grad_tensors = grad_variables
    gts = None if grad_tensors is None else list(_as_tuple(grad_tensors))
    ins = None if inputs is None else list(_as_tuple(inputs))
    _C._backward(list(_as_tuple(tensors)), gts, retain_graph, create_graph, ins)


class detect_anomaly:
    """Anomaly detection inside the block: a NaN produced by a backward rule raises, naming
    the forward op (`with ferrograd.autograd.detect_anomaly():`)."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self) -> None:
        self.prev = _C.is_anomaly_enabled()
        _C._set_detect_anomaly(self.check_nan)

    def __exit__(self, *exc: Any) -> None:
        _C._set_detect_anomaly(self.prev)

    def __call__(self, func):
        import functools

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return func(*args, **kwargs)

        return wrapper


class set_detect_anomaly:
    """Turns anomaly detection on or off now; as a context manager, restores it on exit."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = _C.is_anomaly_enabled()
        _C._set_detect_anomaly(bool(mode))

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: Any) -> None:
        _C._set_detect_anomaly(self.prev)


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on."""
    return _C.is_anomaly_enabled()


from . import forward_ad, functional  # noqa: E402
from .function import Function, FunctionCtx, once_differentiable  # noqa: E402
from .gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: E402

Variable = Tensor

__all__ = [
    "grad", "backward", "Function", "FunctionCtx", "once_differentiable", "functional",
    "forward_ad", "gradcheck", "gradgradcheck", "GradcheckError", "detect_anomaly",
    "set_detect_anomaly", "is_anomaly_enabled", "no_grad", "enable_grad", "set_grad_enabled",
    "inference_mode", "Variable",
]


def Variable(data: Any, requires_grad: bool = False, volatile: bool = False) -> Any:  # noqa: N802
    """PyTorch's legacy `Variable(tensor, requires_grad=...)`: since PyTorch 0.4 variables
    are tensors; `Variable(t)` is a new leaf sharing `t`'s data (`t` itself is untouched)."""
    if not isinstance(data, _C.Tensor):
        raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
    return data.detach().requires_grad_(requires_grad)
