"""`gradcheck` and `gradgradcheck`."""

from __future__ import annotations


class GradcheckError(RuntimeError):
    """Raised by `gradcheck` when analytical and numerical derivatives disagree."""


def gradcheck(func, inputs, **kwargs):
    """Checks first derivatives against finite differences."""
    raise NotImplementedError("gradcheck is not available yet")


def gradgradcheck(func, inputs, grad_outputs=None, **kwargs):
    """Checks second derivatives against finite differences."""
    raise NotImplementedError("gradgradcheck is not available yet")
