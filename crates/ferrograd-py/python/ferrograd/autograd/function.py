"""Custom differentiable functions (`class F(Function)` with `forward` and `backward`).

A thin layer over the library's `function::try_apply`: the forward runs once, without
recording, inside the library's apply; each tensor output is then recorded as a node named
`<ClassName>Backward` whose backward (and forward-mode `jvp`) call the Python staticmethods.
Written with ferrograd ops, the Python backward is itself differentiable (`create_graph=True`).

Several tensor outputs are recorded as one node each (all named `<ClassName>Backward`); the
Python backward then runs once per output that receives a gradient, with the other outputs'
gradients zero (or `None` after `ctx.set_materialize_grads(False)`). By linearity the sum is
what PyTorch's single call gives. An output saved for backward is connected to the graph (for
double backward) in its own node always, and in the other outputs' nodes while its Python
object is alive (if it was dropped, those nodes see its value as a constant).
"""

from __future__ import annotations

import functools
import weakref
TYPE_CHECKING = False  # `typing` costs ~10 ms of import time; annotations are strings
if TYPE_CHECKING:
    from typing import Any, Callable, List, Optional, Sequence, Tuple

from .. import _C
from .._grad_mode import no_grad

Tensor = _C.Tensor


class FunctionCtx:
    """The `ctx` a custom function's `forward`, `backward` and `jvp` share: save tensors with
    `save_for_backward`, read them back as `saved_tensors`; any other attribute can be set."""

    def __init__(self) -> None:
        self._to_save: Optional[Tuple[Optional[Tensor], ...]] = None
        self._fw_saved: Optional[Tuple[Optional[Tensor], ...]] = None
        self._saved: Optional[Tuple[Optional[Tensor], ...]] = None
        self._non_differentiable: set = set()
        self.materialize_grads: bool = True
        self.needs_input_grad: Tuple[bool, ...] = ()

    def save_for_backward(self, *tensors: Optional[Tensor]) -> None:
        """Keeps tensors (inputs, outputs or intermediates; `None` allowed) for `backward`."""
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    "save_for_backward can only save variables, but argument "
                    f"{tensors.index(t)} is of type {type(t).__name__}"
                )
        self._to_save = tensors

    def save_for_forward(self, *tensors: Optional[Tensor]) -> None:
        """Keeps tensors for `jvp` (read back as `saved_tensors` there)."""
        self._fw_saved = tensors

    @property
    def saved_tensors(self) -> Tuple[Optional[Tensor], ...]:
        """The tensors given to `save_for_backward` (in `jvp`: to `save_for_forward`)."""
        if self._saved is not None:
            return self._saved
        if self._to_save is not None:
            return tuple(self._to_save)
        return ()

    def mark_non_differentiable(self, *args: Tensor) -> None:
        """Declares outputs non-differentiable (indices, masks): they will not require grad."""
        self._non_differentiable.update(id(a) for a in args)

    def mark_dirty(self, *args: Tensor) -> None:
        """Accepted for compatibility (in-place forwards are recorded as new outputs)."""

    def set_materialize_grads(self, value: bool) -> None:
        """`False`: `backward` gets `None` instead of zeros for outputs without a gradient."""
        self.materialize_grads = bool(value)


BackwardCFunction = FunctionCtx


def _zeros(shape: Sequence[int], dtype: Any) -> Tensor:
    return _C._full(list(shape), 0.0, dtype)


def _as_tuple(x: Any) -> Tuple[Any, ...]:
    return x if isinstance(x, tuple) else (x,)


class _Apply:
    """One `F.apply(*args)`: the shared state of the nodes recorded for its outputs."""

    def __init__(self, cls: type, args: Tuple[Any, ...]) -> None:
        self.cls = cls
        self.name = cls.__name__ + "Backward"
        self.args = args
        self.nargs = len(args)
        self.idx = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.ctx = FunctionCtx()
        self.out: Any = None
        self.outs: Tuple[Any, ...] = ()
        self.meta: List[Optional[Tuple[Tuple[int, ...], Any]]] = []
        self.none_at: List[int] = []  # positions of `None` in save_for_backward
        self.saved: List[Tensor] = []
        self.saved_output: List[Optional[int]] = []  # saved tensor m is output j
        self.out_refs: List[Any] = []  # weak references to the recorded outputs
        self.fw_saved: Optional[Tuple[Any, ...]] = None
        self.error: Optional[BaseException] = None

    # ---------------------------------------------------------------- forward

    def run_forward(self, needs: List[bool]) -> None:
        cls, ctx = self.cls, self.ctx
        per_arg = [False] * len(self.args)
        for i, n in zip(self.idx, needs):
            per_arg[i] = bool(n)
        ctx.needs_input_grad = tuple(per_arg)
        if _overrides(cls, "setup_context"):
            out = cls.forward(*self.args)
            cls.setup_context(ctx, self.args, out)
        else:
            out = cls.forward(ctx, *self.args)
        self.out = out
        self.outs = _as_tuple(out)
        self.meta = [
            (tuple(o.shape), o.dtype) if isinstance(o, Tensor) else None for o in self.outs
        ]
        to_save = ctx._to_save or ()
        ctx._to_save = None
        self.none_at = [k for k, t in enumerate(to_save) if t is None]
        self.saved = [t for t in to_save if t is not None]
        self.saved_output = [
            next((j for j, o in enumerate(self.outs) if o is t), None) for t in self.saved
        ]
        self.fw_saved = ctx._fw_saved
        ctx._fw_saved = None

    def forward_cb(self, k: int) -> Callable[[List[bool]], Tuple[Tensor, List[Tensor], bool]]:
        def forward(needs: List[bool]) -> Tuple[Tensor, List[Tensor], bool]:
            if k < 0:  # the first tensor output: run the Python forward
                self.run_forward(needs)
                pos = next((j for j, o in enumerate(self.outs) if isinstance(o, Tensor)), None)
                if pos is None:  # no tensor output: a placeholder, discarded
                    return _zeros((), _C.float32), [], True
                self.first = pos
            else:
                pos = k
            o = self.outs[pos]
            non_diff = id(o) in self.ctx._non_differentiable
            return o, self.saved, non_diff

        return forward

    # ---------------------------------------------------------------- backward

    def _saved_with_nones(self, saved: List[Tensor],
                          pos: Optional[int] = None) -> Tuple[Optional[Tensor], ...]:
        out: List[Optional[Tensor]] = list(saved)
        # Another output saved here comes back from the library as plain data: use the
        # recorded output instead (while it is alive), so double backward flows through it.
        for m, j in enumerate(self.saved_output):
            if j is not None and j != pos and m < len(out) and self.out_refs:
                r = self.out_refs[j]() if self.out_refs[j] is not None else None
                if r is not None:
                    out[m] = r
        for k in self.none_at:
            out.insert(k, None)
        return tuple(out)

    def backward_cb(self, k: int) -> Callable[[List[Tensor], Tensor], List[Optional[Tensor]]]:
        def backward(saved: List[Tensor], grad: Tensor) -> List[Optional[Tensor]]:
            cls, ctx = self.cls, self.ctx
            grads: List[Optional[Tensor]] = []
            pos = self.first if k < 0 else k
            for j, m in enumerate(self.meta):
                if j == pos:
                    grads.append(grad)
                elif m is not None and ctx.materialize_grads and m[1].is_floating_point:
                    grads.append(_zeros(m[0], m[1]))
                else:
                    grads.append(None)
            prev = ctx._saved
            ctx._saved = self._saved_with_nones(saved, pos)
            try:
                fn = cls.backward if _overrides(cls, "backward") else cls.vjp
                res = _as_tuple(fn(ctx, *grads))
            finally:
                ctx._saved = prev
            n = self.nargs
            if len(res) > n and all(r is None for r in res[n:]):
                res = res[:n]
            if len(res) != n:
                raise RuntimeError(
                    f"function {self.name} returned an incorrect number of gradients "
                    f"(expected {n}, got {len(res)})"
                )
            tensor_pos = set(self.idx)
            for i, r in enumerate(res):
                if i not in tensor_pos and r is not None:
                    raise RuntimeError(
                        f"function {self.name} returned a gradient different than None at "
                        f"position {i + 1}, but the corresponding forward input was not a "
                        "Variable"
                    )
            for i in self.idx:
                if res[i] is not None and not isinstance(res[i], Tensor):
                    raise RuntimeError(f"expected Variable or None (got {type(res[i]).__name__})")
            return [res[i] for i in self.idx]

        return backward

    # ---------------------------------------------------------------- forward mode

    def jvp_cb(self, k: int) -> Callable[[List[Tensor], List[Optional[Tensor]]], Tensor]:
        def jvp(saved: List[Tensor], tangents: List[Optional[Tensor]]) -> Tensor:
            cls, ctx = self.cls, self.ctx
            per_arg: List[Optional[Tensor]] = [None] * len(self.args)
            for i, t in zip(self.idx, tangents):
                a = self.args[i]
                per_arg[i] = t if t is not None else _zeros(tuple(a.shape), a.dtype)
            prev = ctx._saved
            ctx._saved = (
                tuple(self.fw_saved) if self.fw_saved is not None
                else self._saved_with_nones(saved)
            )
            try:
                res = _as_tuple(cls.jvp(ctx, *per_arg))
            finally:
                ctx._saved = prev
            pos = self.first if k < 0 else k
            if pos >= len(res):
                raise RuntimeError(
                    f"{cls.__name__}.jvp returned {len(res)} tangents for "
                    f"{len(self.outs)} outputs"
                )
            t = res[pos]
            if t is not None and not isinstance(t, Tensor):
                raise RuntimeError(
                    f"expected Variable or None (got {type(t).__name__}) for grad output {pos}."
                )
            if t is None:
                shape, dtype = self.meta[pos]
                t = _zeros(shape, dtype)
            return t

        return jvp

    # ---------------------------------------------------------------- apply

    def apply(self) -> Any:
        tensors = [self.args[i] for i in self.idx]
        has_jvp = _overrides(self.cls, "jvp")

        def one(k: int) -> Tensor:
            try:
                return _C._function_apply(
                    self.name, tensors, self.forward_cb(k), self.backward_cb(k),
                    self.jvp_cb(k) if has_jvp else None,
                )
            except RuntimeError as e:
                if "You must implement the jvp function" in str(e):
                    raise NotImplementedError(
                        "You must implement the jvp function for custom autograd.Function "
                        "to use it with forward mode AD."
                    ) from None
                raise

        first = one(-1)
        if not any(m is not None for m in self.meta):
            result = self.out
        else:
            outs = list(self.outs)
            for j, o in enumerate(self.outs):
                if isinstance(o, Tensor):
                    outs[j] = first if j == self.first else one(j)
            result = tuple(outs) if isinstance(self.out, tuple) else outs[0]
            self.out_refs = [
                weakref.ref(o) if m is not None else None for o, m in zip(outs, self.meta)
            ]
        # The nodes keep what they need; drop the forward's references.
        self.out = None
        self.outs = ()
        self.saved = []
        self.args = ()  # the inputs are not kept alive by the nodes
        return result


def _overrides(cls: type, name: str) -> bool:
    return getattr(cls, name) is not getattr(Function, name)


class Function:
    """A differentiable function with a hand-written derivative (`torch.autograd.Function`).

    Subclass with staticmethods `forward(ctx, *args)` (or `forward(*args)` plus
    `setup_context(ctx, inputs, output)`) and `backward(ctx, *grad_outputs)` returning one
    gradient per forward argument (`None` for non-tensors), optionally `jvp(ctx, *tangents)`
    for forward mode; call it as `F.apply(*args)`.
    """

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        """Computes the outputs (not recorded)."""
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function."
        )

    @staticmethod
    def setup_context(ctx: Any, inputs: Tuple[Any, ...], output: Any) -> Any:
        """Saves what `backward` needs, when `forward` takes no `ctx`."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        """One gradient per forward argument from the outputs' gradients."""
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    vjp = backward

    @staticmethod
    def jvp(ctx: Any, *grad_inputs: Any) -> Any:
        """Forward mode: the outputs' tangents from the inputs' tangents."""
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with "
            "forward mode AD."
        )

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Runs `forward` on `args` and records it in the graph."""
        if cls is Function or not _overrides(cls, "forward"):
            raise NotImplementedError(
                "You must implement the forward function for custom autograd.Function."
            )
        if _overrides(cls, "setup_context"):
            # As PyTorch: keyword and default arguments bound to positions.
            bound = _signature(cls.forward).bind(*args, **kwargs)
            bound.apply_defaults()
            args = bound.args
        elif kwargs:
            bound = _signature(cls.forward).bind(None, *args, **kwargs)
            args = bound.args[1:]
        return _Apply(cls, args).apply()


def once_differentiable(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Marks a backward as not differentiable twice: it runs without recording."""

    @functools.wraps(fn)
    def wrapper(ctx: Any, *args: Any) -> Any:
        with no_grad():
            return fn(ctx, *args)

    return wrapper


def _signature(f: Callable[..., Any]) -> Any:
    import inspect  # only for setup_context-style functions: ~10 ms of import time otherwise

    return inspect.signature(f)
