"""`ferrograd.nn`: the functional layer ops (`ferrograd.nn.functional`)."""

from . import functional

__all__ = ["functional"]
