"""Grad-mode decorators (bare, and on generators), `torch.func` under `no_grad`, and numpy
scalars and arrays as operands; the expected behaviour is PyTorch 2.15's, run side by side."""

import numpy as np
import pytest

import ferrograd as torch


def test_bare_grad_mode_decorators():
    x = torch.tensor([1.0, 2.0], requires_grad=True)

    @torch.no_grad
    def f(a):
        return a * 2

    @torch.enable_grad
    def g(a):
        return a * 2

    @torch.inference_mode
    def h(a):
        return a * 2

    assert f.__name__ == "f" and not f(x).requires_grad
    with torch.no_grad():
        assert g(x).requires_grad
    assert not h(x).requires_grad and (x * 2).requires_grad
    with pytest.raises(TypeError):
        torch.no_grad(3)


def test_grad_mode_decorators_on_generators_apply_at_each_step():
    x = torch.tensor([1.0, 2.0], requires_grad=True)

    @torch.no_grad()
    def gen():
        yield (x * 2).requires_grad
        yield (x * 3).requires_grad

    it = gen()
    assert next(it) is False
    assert (x * 2).requires_grad  # the mode is restored between steps
    assert next(it) is False

    @torch.enable_grad()
    def echo():
        r = yield (x * 2).requires_grad
        yield r

    with torch.no_grad():
        it = echo()
        assert next(it) is True and it.send(5) == 5
        assert not (x * 2).requires_grad


def test_func_transforms_differentiate_under_no_grad():
    def f(t):
        return (t**2).sum()

    x = torch.ones(2)
    with torch.no_grad():
        assert torch.func.grad(f)(x).tolist() == [2.0, 2.0]
        assert torch.func.jacrev(torch.sin)(torch.zeros(2)).tolist() == [[1.0, 0.0], [0.0, 1.0]]
        assert torch.func.hessian(f)(x).tolist() == [[2.0, 0.0], [0.0, 2.0]]
        _, t = torch.func.jvp(f, (x,), (torch.ones(2),))
        assert t.item() == 4.0
        y, back = torch.func.vjp(f, x)
        assert back(torch.tensor(1.0))[0].tolist() == [2.0, 2.0]
        g = torch.func.grad(f)(torch.ones(2, requires_grad=True))
        assert not g.requires_grad
    with torch.inference_mode():
        assert torch.func.grad(f)(x).tolist() == [2.0, 2.0]


def test_numpy_scalars_and_arrays_are_operands():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = np.sqrt(2) * x
    assert isinstance(y, torch.Tensor) and y.grad_fn.name() == "MulBackward0"
    y.sum().backward()
    assert [round(v, 4) for v in x.grad.tolist()] == [1.4142, 1.4142]
    assert (x + np.float32(1)).tolist() == [2.0, 3.0]
    assert (np.float32(3) - x).tolist() == [2.0, 1.0]
    assert (x ** np.int64(2)).tolist() == [1.0, 4.0]
    assert (np.int64(2) / x).tolist() == [2.0, 1.0]
    assert (x > np.float32(1.5)).tolist() == [False, True]
    assert (x * np.bool_(True)).tolist() == [1.0, 2.0]
    ints = torch.tensor([1, 2]) * np.int64(3)
    assert ints.dtype == torch.int64 and ints.tolist() == [3, 6]
    assert (torch.tensor([1, 2]) + np.float32(0.5)).dtype == torch.float32
    assert (torch.ones(2, dtype=torch.float64) * np.float32(2)).dtype == torch.float64
    z = torch.ones(2) * np.float32(2.0)
    assert isinstance(z, torch.Tensor) and z.dtype == torch.float32
    w = torch.ones(2) + np.ones(2)
    assert isinstance(w, torch.Tensor) and w.dtype == torch.float64
