"""`ferrograd.viz.make_dot`: the backward graph as torchviz draws it.

>>> import ferrograd as torch
>>> from ferrograd.viz import make_dot
>>> x = torch.ones(2, 2, requires_grad=True)
>>> g = make_dot((x * 3).mean(), params={"x": x})
>>> g.source.startswith("digraph {")
True

The result behaves like graphviz's `Digraph` as torchviz returns it: `.source` is the DOT text,
Jupyter shows it inline (`_repr_svg_`, `_repr_png_`), `.render()` writes a file and `.pipe()`
returns the bytes. Layout and drawing are done in Rust; Graphviz is not needed.
"""

from __future__ import annotations

import os
TYPE_CHECKING = False  # `typing` costs ~10 ms of import time; annotations are strings
if TYPE_CHECKING:
    from typing import Dict, Optional

from . import _C

Tensor = _C.Tensor

__all__ = ["Digraph", "make_dot"]

_FORMATS = ("svg", "png", "dot", "gv")


class Digraph:
    """A drawn backward graph: DOT text, shown as SVG or PNG."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._svg: Optional[str] = None

    def _svg_text(self) -> str:
        if self._svg is None:
            self._svg = _C._render_svg(self.source)
        return self._svg

    def pipe(self, format: str = "svg") -> bytes:
        """The graph in `format` ('svg', 'png' or 'dot') as bytes."""
        if format == "svg":
            return self._svg_text().encode("utf-8")
        if format == "png":
            return _C._svg_to_png(self._svg_text())
        if format in ("dot", "gv"):
            return self.source.encode("utf-8")
        raise ValueError(f"unknown format: {format!r} (supported: 'svg', 'png', 'dot')")

    def render(
        self,
        filename: Optional[str] = None,
        directory: Optional[str] = None,
        view: bool = False,
        cleanup: bool = False,
        format: str = "svg",
    ) -> str:
        """Writes the graph as `filename.format` (graphviz's naming: `render('g')` writes
        `g.svg`) and returns the path written. `view` and `cleanup` are accepted for
        graphviz's signature (nothing is opened; no DOT file is left beside the picture)."""
        if format not in _FORMATS:
            raise ValueError(f"unknown format: {format!r} (supported: 'svg', 'png', 'dot')")
        path = f"{filename or 'Digraph.gv'}.{format}"
        if directory is not None:
            path = os.path.join(directory, path)
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        with open(path, "wb") as f:
            f.write(self.pipe(format))
        return path

    def save(self, filename: Optional[str] = None, directory: Optional[str] = None) -> str:
        """Writes the DOT text to `filename` (default 'Digraph.gv'); returns the path."""
        path = filename or "Digraph.gv"
        if directory is not None:
            path = os.path.join(directory, path)
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.source)
        return path

    def _repr_svg_(self) -> str:
        return self._svg_text()

    def _repr_png_(self) -> bytes:
        return self.pipe("png")

    def __str__(self) -> str:
        return self.source


def make_dot(
    var: Tensor,
    params: Optional[Dict[str, Tensor]] = None,
    show_attrs: bool = False,
    show_saved: bool = False,
    max_attr_chars: int = 50,
) -> Digraph:
    """The backward graph of `var` (torchviz's `make_dot`).

    Blue boxes are leaves that require grad (named from `params`, a dict name -> tensor, with
    their shape), orange ones tensors saved for backward (`show_saved=True`), the output green;
    one box per backward node (`grad_fn`), edges follow the backward pass. `show_attrs` and
    `max_attr_chars` are accepted for torchviz's signature: ferrograd's nodes expose no
    non-tensor saved attributes, so there are none to show.
    """
    if params is not None and not isinstance(params, dict):
        raise TypeError("make_dot(): 'params' must be a dict of name -> Tensor")
    if params is not None:
        for v in params.values():
            if not isinstance(v, Tensor):
                raise TypeError(f"make_dot(): expected Tensor as element in params, got {type(v).__name__}")
    pairs = list((params or {}).items())
    return Digraph(_C._make_dot(var, pairs, show_saved))
