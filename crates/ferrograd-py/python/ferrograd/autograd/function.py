"""Custom differentiable functions (`class F(Function)` with `forward` and `backward`)."""

from __future__ import annotations

from typing import Any


class FunctionCtx:
    """The `ctx` a custom function's `forward` and `backward` share."""


class Function:
    """Subclass with `forward(ctx, *args)` and `backward(ctx, *grads)` staticmethods; call
    `F.apply(*args)`."""

    @classmethod
    def apply(cls, *args: Any) -> Any:
        raise NotImplementedError("custom Functions are not available yet")


def once_differentiable(fn):
    """Marks a backward as not differentiable twice (accepted and ignored)."""
    return fn
