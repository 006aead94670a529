"""`ferrograd.GradientTape`: TensorFlow's `tf.GradientTape` over ferrograd's autograd.

>>> import ferrograd
>>> x = ferrograd.tensor(5.0)
>>> with ferrograd.GradientTape() as t:
...     t.watch(x)
...     y = x ** 2
>>> t.gradient(y, x)
tensor(10.)

One difference from TensorFlow: ferrograd records every operation on tensors that require
grad, tape or not, so a target computed outside the `with` block still has gradients.
Watching a tensor is what makes it record. Nested tapes give higher derivatives.
"""

from __future__ import annotations

TYPE_CHECKING = False  # `typing` costs ~10 ms of import time; annotations are strings
if TYPE_CHECKING:
    from typing import Any, Callable, Iterator, List, Optional, Tuple

from . import _C
from ._grad_mode import no_grad

Tensor = _C.Tensor

__all__ = ["GradientTape", "UnconnectedGradients"]


class UnconnectedGradients:
    """What `gradient` returns for a source the target does not depend on
    (`tf.UnconnectedGradients`): `NONE` (the default) or `ZERO`."""

    NONE = "none"
    ZERO = "zero"


def _flatten(structure: Any) -> Tuple[List[Any], Callable[[List[Any]], Any]]:
    """The leaves of a nest of lists, tuples and dicts, and a function rebuilding the nest
    from a list of new leaves in the same order."""
    if isinstance(structure, (list, tuple)):
        parts = [_flatten(s) for s in structure]
        leaves = [leaf for p in parts for leaf in p[0]]

        def rebuild(new: List[Any]) -> Any:
            out, i = [], 0
            for (ls, r) in parts:
                out.append(r(new[i:i + len(ls)]))
                i += len(ls)
            return type(structure)(out) if isinstance(structure, tuple) else out

        return leaves, rebuild
    if isinstance(structure, dict):
        keys = list(structure.keys())
        leaves, rebuild_values = _flatten([structure[k] for k in keys])
        return leaves, lambda new: dict(zip(keys, rebuild_values(new)))
    return [structure], lambda new: new[0]


def _unconnected(value: Any) -> str:
    v = getattr(value, "value", value)
    return str(v).lower()


class GradientTape:
    """Records operations for automatic differentiation (`tf.GradientTape`).

    `persistent=True` allows several `gradient`/`jacobian` calls on the same tape.
    `watch_accessed_variables` is accepted for TensorFlow's signature: tensors that already
    require grad are always tracked.
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True) -> None:
        self._tape = _C._GradientTape(persistent)
        self._persistent = persistent
        self._watch_accessed_variables = watch_accessed_variables
        self._recording = False

    def __enter__(self) -> "GradientTape":
        self._recording = True
        return self

    def __exit__(self, *exc: Any) -> None:
        self._recording = False

    def watch(self, tensor: Any) -> None:
        """Starts tracking `tensor` (a tensor or a nest of tensors): it is made to require grad."""
        for t in _flatten(tensor)[0]:
            self._tape.watch(t)

    def watched_variables(self) -> Tuple[Tensor, ...]:
        """The watched tensors, in the order they were watched."""
        return tuple(self._tape.watched_variables())

    def stop_recording(self) -> no_grad:
        """A context in which operations are not recorded (`with tape.stop_recording():`)."""
        return no_grad()

    def reset(self) -> None:
        """Forgets what was watched and recorded: a fresh tape with the same persistence."""
        self._tape = _C._GradientTape(self._persistent)

    def gradient(
        self,
        target: Tensor,
        sources: Any,
        output_gradients: Optional[Tensor] = None,
        unconnected_gradients: Any = UnconnectedGradients.NONE,
    ) -> Any:
        """The gradient of `target` (summed over its elements) with respect to `sources`.

        `sources` is a tensor or a nest (list, tuple, dict) of tensors; the result has the same
        structure, with `None` for a source the target does not depend on (zeros with
        `unconnected_gradients='zero'`). `output_gradients` weights the target's elements
        (default ones). A non-persistent tape computes one set of gradients only.
        """
        leaves, rebuild = _flatten(sources)
        grads = self._tape.gradient(target, leaves, output_gradients,
                                    _unconnected(unconnected_gradients))
        return rebuild(grads)

    def jacobian(
        self,
        target: Tensor,
        sources: Any,
        unconnected_gradients: Any = UnconnectedGradients.NONE,
        parallel_iterations: Optional[int] = None,
        experimental_use_pfor: bool = True,
    ) -> Any:
        """The Jacobian of `target` with respect to `sources`: for each source a tensor shaped
        `target.shape + source.shape`, in the structure of `sources`. A non-persistent tape
        computes the Jacobian of one source only."""
        leaves, rebuild = _flatten(sources)
        return rebuild([self._connected(self._tape.jacobian(target, s), target, s,
                                        unconnected_gradients) for s in leaves])

    def batch_jacobian(
        self,
        target: Tensor,
        source: Tensor,
        unconnected_gradients: Any = UnconnectedGradients.NONE,
        parallel_iterations: Optional[int] = None,
        experimental_use_pfor: bool = True,
    ) -> Optional[Tensor]:
        """Per-example Jacobians: target `[B, ...]` and source `[B, ...]` give
        `[B, target..., source...]`, assuming example `b` of the target depends only on
        example `b` of the source."""
        j = self._tape.batch_jacobian(target, source)
        return self._connected(j, target, source, unconnected_gradients)

    @staticmethod
    def _connected(j: Tensor, target: Tensor, source: Tensor, unconnected: Any) -> Optional[Tensor]:
        # TensorFlow returns None for an unconnected source unless asked for zeros.
        if _unconnected(unconnected) == UnconnectedGradients.NONE and (
            not target.requires_grad or not source.requires_grad
        ):
            return None
        return j
