"""The core Tensor API as PyTorch defines it: construction, dtypes, printing, autograd
attributes, conversions, shapes, grad modes, threads. Expected values come from mathematics
or were pasted from PyTorch 2.x runs."""

import math
import threading
import time

import numpy as np
import pytest

import ferrograd as torch


def close(a, b, tol=1e-5):
    a = a.tolist() if isinstance(a, torch.Tensor) else a
    return np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), atol=tol, rtol=tol)


# ------------------------------------------------------------------ construction


def test_tensor_from_numbers_and_lists():
    assert torch.tensor(3).dtype is torch.int64
    assert torch.tensor(3.5).dtype is torch.float32
    assert torch.tensor(True).dtype is torch.bool
    assert torch.tensor([1, 2.0]).dtype is torch.float32
    assert torch.tensor([True, 2]).dtype is torch.int64
    t = torch.tensor([[1, 2, 3], [4, 5, 6]])
    assert t.shape == (2, 3) and t.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert torch.tensor([]).shape == (0,) and torch.tensor([]).dtype is torch.float32
    assert torch.tensor(((1, 2), (3, 4))).tolist() == [[1, 2], [3, 4]]
    assert torch.tensor([1, 2], dtype=torch.float64).dtype is torch.float64
    assert torch.tensor([1.7, -1.7], dtype=torch.int64).tolist() == [1, -1]


def test_tensor_from_numpy():
    for npdt, dt in [(np.float32, torch.float32), (np.float64, torch.float64),
                     (np.int64, torch.int64), (np.bool_, torch.bool)]:
        a = np.arange(6).reshape(2, 3).astype(npdt)
        t = torch.tensor(a)
        assert t.dtype is dt and t.shape == (2, 3)
        assert t.tolist() == a.tolist()
    # ferrograd has no int32: numpy's smaller integers become int64 (PyTorch keeps int32)
    assert torch.tensor(np.arange(3, dtype=np.int32)).tolist() == [0, 1, 2]
    t = torch.tensor(np.ones((2, 2)), dtype=torch.float32, requires_grad=True)
    assert t.dtype is torch.float32 and t.requires_grad
    assert torch.from_numpy(np.array([1.5])).tolist() == [1.5]
    # a copy: later numpy writes do not show
    a = np.zeros(3)
    t = torch.tensor(a)
    a[0] = 1
    assert t.tolist() == [0, 0, 0]
    assert torch.tensor(np.float64(2.5)).item() == 2.5
    assert torch.tensor([np.float32(1.0), np.float32(2.0)]).tolist() == [1.0, 2.0]


def test_constructors():
    assert torch.ones(2, 3).tolist() == [[1.0] * 3] * 2
    assert torch.zeros((2, 3)).shape == (2, 3)
    assert torch.zeros([2, 3], dtype=torch.int64).tolist() == [[0] * 3] * 2
    assert torch.ones(torch.Size([4])).shape == (4,)
    assert torch.ones(()).shape == () and torch.ones(()).item() == 1.0
    assert torch.full((2,), 7).dtype is torch.int64
    assert torch.full((2,), 1.5).dtype is torch.float32
    assert torch.full((1,), True).dtype is torch.bool
    assert torch.full((2, 2), 3.0).tolist() == [[3.0, 3.0], [3.0, 3.0]]
    x = torch.tensor([[1, 2], [3, 4]])
    assert torch.zeros_like(x).tolist() == [[0, 0], [0, 0]] and torch.zeros_like(x).dtype is torch.int64
    assert torch.ones_like(x, dtype=torch.float64).dtype is torch.float64
    assert torch.full_like(x, 9).tolist() == [[9, 9], [9, 9]]
    assert torch.empty_like(x).shape == (2, 2)
    assert torch.rand_like(torch.ones(3)).shape == (3,)
    assert torch.randn_like(torch.ones(3)).shape == (3,)
    assert torch.empty(2, 3).shape == (2, 3)
    assert torch.ones(2, requires_grad=True).requires_grad
    assert torch.zeros(2, requires_grad=True).is_leaf


def test_arange_linspace_eye():
    assert torch.arange(5).tolist() == [0, 1, 2, 3, 4] and torch.arange(5).dtype is torch.int64
    assert torch.arange(5, 0, -2).tolist() == [5, 3, 1]
    assert torch.arange(0, 1, 0.25).tolist() == [0, 0.25, 0.5, 0.75]
    assert torch.arange(0, 1, 0.25).dtype is torch.float32
    assert close(torch.arange(1, 2, 0.3), [1.0, 1.3, 1.6, 1.9])  # PyTorch: 4 values
    assert torch.arange(3, dtype=torch.float64).dtype is torch.float64
    assert torch.linspace(-1, 1, 3).tolist() == [-1, 0, 1]
    assert torch.linspace(0, 1, 5).tolist() == [0, 0.25, 0.5, 0.75, 1]
    assert torch.linspace(0, 1, 1).tolist() == [0.0]
    assert torch.eye(2).tolist() == [[1, 0], [0, 1]]
    assert torch.eye(2, 3).tolist() == [[1, 0, 0], [0, 1, 0]]
    assert torch.eye(3, 2, dtype=torch.int64).tolist() == [[1, 0], [0, 1], [0, 0]]


def test_random():
    torch.manual_seed(0)
    a = torch.rand(1000)
    assert a.dtype is torch.float32 and 0 <= a.min().item() and a.max().item() < 1
    assert 0.4 < a.mean().item() < 0.6
    b = torch.randn(2000, dtype=torch.float64)
    assert b.dtype is torch.float64 and abs(b.mean().item()) < 0.1 and 0.9 < b.std().item() < 1.1
    r = torch.randint(0, 10, (500,))
    assert r.dtype is torch.int64 and r.min().item() >= 0 and r.max().item() <= 9
    assert torch.randint(3, (4, 2)).shape == (4, 2)
    assert torch.randint(5, 7, (100,)).min().item() >= 5
    torch.manual_seed(3)
    x = torch.rand(5).tolist()
    torch.manual_seed(3)
    assert torch.rand(5).tolist() == x
    assert torch.rand(2, 3, requires_grad=True).requires_grad


# ------------------------------------------------------------------ dtypes and printing


def test_dtypes():
    assert repr(torch.float32) == "torch.float32" and str(torch.int64) == "torch.int64"
    assert torch.float is torch.float32 and torch.double is torch.float64
    assert torch.long is torch.int64 and repr(torch.bool) == "torch.bool"
    assert torch.float32.is_floating_point and not torch.int64.is_floating_point
    assert torch.ones(1).double().dtype is torch.float64
    assert torch.ones(1).long().dtype is torch.int64
    assert torch.ones(1).bool().dtype is torch.bool
    assert torch.ones(1, dtype=torch.int64).float().dtype is torch.float32
    assert torch.ones(1).to(torch.float64).dtype is torch.float64
    assert torch.get_default_dtype() is torch.float32
    assert isinstance(torch.float32, torch.dtype)


def test_repr_like_pytorch():
    # Pasted from PyTorch.
    assert repr(torch.tensor([1.0, 2.0, 3.0], requires_grad=True)) == \
        "tensor([1., 2., 3.], requires_grad=True)"
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2., 4., 6.], grad_fn=<MulBackward0>)"
    assert repr((x * 2).sum()) == "tensor(12., grad_fn=<SumBackward0>)"
    assert repr(torch.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(torch.tensor(3.5)) == "tensor(3.5000)"
    assert repr(torch.tensor([[1.0, 2.0], [3.0, 4.0]])) == "tensor([[1., 2.],\n        [3., 4.]])"
    assert repr(torch.tensor([True, False])) == "tensor([ True, False])"
    assert repr(torch.tensor([1.0, 2.0], dtype=torch.float64)) == \
        "tensor([1., 2.], dtype=torch.float64)"
    assert repr(torch.tensor([0.1, 1e-5, 123456.0])) == "tensor([1.0000e-01, 1.0000e-05, 1.2346e+05])"
    assert str(torch.tensor([-3, 1])) == "tensor([-3,  1])"
    assert repr(torch.ones(2, 3).shape) == "torch.Size([2, 3])"
    assert f"{torch.tensor(2.5):.2f}" == "2.50"


# ------------------------------------------------------------------ autograd attributes


def test_requires_grad_flags():
    x = torch.ones(2)
    assert not x.requires_grad and x.is_leaf and x.grad is None and x.grad_fn is None
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    x.requires_grad = True
    assert x.requires_grad
    y = x * 2
    assert y.requires_grad and not y.is_leaf
    assert (x.detach() * 2).requires_grad is False


def test_grad_set_and_none():
    x = torch.ones(2, requires_grad=True)
    x.grad = torch.tensor([1.0, 2.0])
    assert x.grad.tolist() == [1.0, 2.0]
    (x * 3).sum().backward()
    assert x.grad.tolist() == [4.0, 5.0]
    x.grad = None
    assert x.grad is None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    x.grad.zero_()
    assert x.grad.tolist() == [0.0, 0.0]


def test_grad_fn_graph():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    fn = y.grad_fn
    assert fn.name() == "MulBackward0"
    assert repr(fn).startswith("<MulBackward0 object at 0x")
    nf = fn.next_functions
    assert isinstance(nf, tuple) and nf[0][1] == 0
    assert nf[0][0].name() == "torch::autograd::AccumulateGrad"  # PyTorch
    assert repr(nf[0][0]).startswith("<AccumulateGrad object at 0x")
    assert nf[0][0].variable is not None
    z = (y.exp() + 1).sum()
    assert z.grad_fn.name() == "SumBackward0"
    assert z.grad_fn.next_functions[0][0].name() == "AddBackward0"
    # names as PyTorch prints them
    assert x[0].grad_fn.name() == "SelectBackward0"
    assert (x @ x).grad_fn.name() == "DotBackward0"
    assert x.mean().grad_fn.name() == "MeanBackward0"
    assert (x + 1).grad_fn.name() == "AddBackward0"
    assert (1 - x).grad_fn.name() == "RsubBackward1"
    assert (x ** 2).grad_fn.name() == "PowBackward0"
    assert (x / 2).grad_fn.name() == "DivBackward0"


def test_retain_grad():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.exp()
    y.retain_grad()
    assert y.retains_grad
    y.sum().backward()
    assert y.grad.tolist() == [1.0, 1.0, 1.0]
    assert close(x.grad, [2.7183, 7.3891, 20.0855], 1e-4)  # PyTorch
    w = x * 2
    w.sum().backward()
    assert w.grad is None


def test_register_hook():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    h1 = x.register_hook(lambda g: seen.append(g.tolist()))
    h = x.register_hook(lambda g: g * 10)
    (x * x).sum().backward()
    assert x.grad.tolist() == [20.0, 40.0]  # PyTorch
    assert seen == [[2.0, 4.0]]
    h.remove()
    h.remove()  # twice is harmless
    h1.remove()
    x.grad = None
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]
    # a hook on an intermediate tensor changes what flows on
    x.grad = None
    y = x * 3
    y.register_hook(lambda g: g * 0 + 1)
    (y * y).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_hooks_survive_rebinding_their_tensor():
    # PyTorch keeps a tensor's hooks on its grad_fn: rebinding the name still runs them
    # (PyTorch 2: the hook sees 3.0, x.grad is 3 cos 0.3).
    x = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    seen = []
    y = x.sin()
    y.register_hook(lambda g: seen.append(g.item()))
    y = y * 3
    y.backward()
    assert seen == [3.0]
    assert abs(x.grad.item() - 3 * math.cos(0.3)) < 1e-15
    # and a hook that replaces the gradient still does after `del`
    x.grad = None
    h = x * 2
    h.register_hook(lambda g: g * 10)
    out = h.exp()
    del h
    out.backward()
    assert abs(x.grad.item() - 20 * math.exp(0.6)) < 1e-12


def test_hooks_and_retain_grad_across_an_in_place_op():
    # PyTorch 2: a hook sees the gradient of the version it was registered on; retain_grad
    # follows the new version.
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    y = x * 2
    y.register_hook(lambda g: seen.append(("a", g.tolist())))
    y.retain_grad()
    y.mul_(3)
    y.register_hook(lambda g: seen.append(("b", g.tolist())))
    y.sum().backward()
    assert seen == [("b", [1.0, 1.0]), ("a", [3.0, 3.0])]
    assert y.grad.tolist() == [1.0, 1.0]
    assert x.grad.tolist() == [6.0, 6.0]


def test_backward_options():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.backward(torch.tensor([1.0, 0.5]), retain_graph=True)
    assert x.grad.tolist() == [2.0, 2.0]
    y.backward(gradient=torch.tensor([1.0, 1.0]))
    assert x.grad.tolist() == [4.0, 6.0]
    # create_graph: the gradient has a graph
    x = torch.tensor(3.0, requires_grad=True)
    y = x ** 3
    y.backward(create_graph=True)
    assert x.grad.item() == 27.0 and x.grad.requires_grad
    g = x.grad
    x.grad = None
    g.backward()
    assert x.grad.item() == 18.0
    # inputs: only those leaves get .grad
    a = torch.tensor(1.0, requires_grad=True)
    b = torch.tensor(2.0, requires_grad=True)
    (a * b).backward(inputs=[a])
    assert a.grad.item() == 2.0 and b.grad is None
    (a * b).backward(inputs=b)
    assert b.grad.item() == 1.0


def test_detach_and_data():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    d[0] = 100.0  # shares storage
    assert y[0].item() == 100.0
    y.detach_()
    assert y.grad_fn is None and not y.requires_grad
    assert not x.data.requires_grad and x.data.tolist() == [1.0, 2.0]
    x.data = torch.tensor([5.0, 6.0])
    assert x.tolist() == [5.0, 6.0] and x.requires_grad and x.is_leaf
    (x * x).sum().backward()
    assert x.grad.tolist() == [10.0, 12.0]
    with torch.no_grad():
        x.data.mul_(0)
    assert x.tolist() == [0.0, 0.0]


def test_conversions():
    t = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert t.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert torch.tensor(2.5).item() == 2.5 and isinstance(torch.tensor(2).item(), int)
    assert isinstance(torch.tensor(True).item(), bool)
    assert torch.tensor(7).tolist() == 7
    a = t.numpy()
    assert a.dtype == np.float32 and a.shape == (2, 2) and a.tolist() == t.tolist()
    assert np.asarray(t).shape == (2, 2)
    assert np.asarray(torch.tensor([1, 2])).dtype == np.int64
    assert np.asarray(torch.tensor([True])).dtype == np.bool_
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    g = torch.ones(2, requires_grad=True)
    assert g.numpy(force=True).tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="Can't call numpy"):  # as PyTorch
        np.asarray(g * 2)
    assert np.asarray((g * 2).detach()).tolist() == [2.0, 2.0]
    assert float(torch.tensor([2.5])) == 2.5 and int(torch.tensor(3.9)) == 3
    assert bool(torch.tensor(0.0)) is False and bool(torch.tensor([1])) is True
    assert [1, 2, 3][torch.tensor(1)] == 2


def test_matplotlib_accepts_tensors():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    x = torch.linspace(0, 1, 5)
    fig, ax = plt.subplots()
    (line,) = ax.plot(x, x * x)
    assert line.get_ydata().tolist() == pytest.approx([0, 0.0625, 0.25, 0.5625, 1])
    ax.imshow(torch.rand(3, 3))
    plt.close(fig)


def test_shape_api():
    t = torch.ones(2, 3, 4)
    assert t.shape == (2, 3, 4) and isinstance(t.shape, tuple) and t.shape == torch.Size([2, 3, 4])
    assert t.size() == (2, 3, 4) and t.size(1) == 3 and t.size(-1) == 4
    assert t.dim() == 3 and t.ndim == 3 and t.numel() == 24 and len(t) == 2
    assert torch.numel(t) == 24 and t.shape.numel() == 24
    assert torch.ones(2, 3).T.shape == (3, 2)
    assert t.mT.shape == (2, 4, 3)
    m = torch.tensor([[1, 2], [3, 4]])
    assert m.T.tolist() == [[1, 3], [2, 4]]
    assert torch.tensor(5.0).dim() == 0 and torch.tensor(5.0).size() == ()
    assert torch.is_tensor(t) and not torch.is_tensor([1])
    assert t.is_floating_point() and not torch.is_floating_point(torch.tensor([1]))
    assert [r.tolist() for r in torch.tensor([[1, 2], [3, 4]])] == [[1, 2], [3, 4]]


# ------------------------------------------------------------------ grad modes


def test_grad_mode_context_managers():
    x = torch.ones(2, requires_grad=True)
    with torch.no_grad():
        assert not torch.is_grad_enabled()
        assert not (x * 2).requires_grad
        with torch.enable_grad():
            assert (x * 2).requires_grad
        assert not torch.is_grad_enabled()
    assert torch.is_grad_enabled()
    with torch.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert torch.is_grad_enabled()
    torch.set_grad_enabled(False)
    assert not torch.is_grad_enabled()
    torch.set_grad_enabled(True)
    with torch.inference_mode():
        assert not (x * 2).requires_grad
    with torch.inference_mode(False):
        assert (x * 2).requires_grad
    assert torch.is_grad_enabled()


def test_grad_mode_decorators():
    x = torch.ones(2, requires_grad=True)

    @torch.no_grad()
    def f(a):
        """doc"""
        return a * 2

    @torch.enable_grad()
    def g(a):
        return a * 2

    @torch.set_grad_enabled(False)
    def h(a):
        return a * 2

    @torch.inference_mode()
    def k(a):
        return a * 2

    assert torch.is_grad_enabled()
    assert not f(x).requires_grad and f.__doc__ == "doc" and f.__name__ == "f"
    assert not h(x).requires_grad and not k(x).requires_grad
    assert torch.is_grad_enabled()
    with torch.no_grad():
        assert g(x).requires_grad
    assert (x * 2).requires_grad


def test_grad_mode_restored_after_exception():
    with pytest.raises(ValueError):
        with torch.no_grad():
            raise ValueError("boom")
    assert torch.is_grad_enabled()

    @torch.no_grad()
    def bad():
        raise KeyError("x")

    with pytest.raises(KeyError):
        bad()
    assert torch.is_grad_enabled()


def test_grad_mode_is_thread_local():
    x = torch.ones(2, requires_grad=True)
    inside = threading.Event()
    done = threading.Event()
    seen = {}

    def worker():
        with torch.no_grad():
            seen["worker"] = torch.is_grad_enabled()
            inside.set()
            done.wait(5)

    th = threading.Thread(target=worker, daemon=True)
    th.start()
    inside.wait(5)
    seen["main"] = torch.is_grad_enabled()
    seen["main_records"] = (x * 2).requires_grad
    done.set()
    th.join()
    assert seen == {"worker": False, "main": True, "main_records": True}

    out = {}

    def other():
        out["enabled"] = torch.is_grad_enabled()

    with torch.no_grad():
        th = threading.Thread(target=other)
        th.start()
        th.join()
    assert out["enabled"] is True


def _ticks_during(work):
    """How many times a Python thread ran while `work()` ran in the main thread."""
    ticks = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            ticks[0] += 1
            time.sleep(0.0005)

    th = threading.Thread(target=spin, daemon=True)
    th.start()
    try:
        time.sleep(0.01)
        before = ticks[0]
        work()
        return ticks[0] - before
    finally:
        stop.set()
        th.join()


def test_gil_released_during_matmul_and_backward():
    a = torch.rand(600, 600)
    b = torch.rand(600, 600)
    t0 = time.perf_counter()
    a @ b
    if time.perf_counter() - t0 < 0.02:
        a = torch.rand(1200, 1200)
        b = torch.rand(1200, 1200)
    assert _ticks_during(lambda: a @ b) > 2
    w = torch.rand(a.shape[0], a.shape[1], requires_grad=True)
    out = w @ b
    # A dense upstream gradient: the gradient of `sum()` is a broadcast ones
    # tensor, which makes the backward product an outer product (rank one) and
    # too quick to measure anything.
    upstream = torch.rand(out.shape[0], out.shape[1])
    assert _ticks_during(lambda: out.backward(upstream)) > 2
    assert w.grad.shape == w.shape


# ------------------------------------------------------------------ autograd.grad


def test_autograd_grad():
    x = torch.tensor(3.0, requires_grad=True)
    y = x ** 3
    (g,) = torch.autograd.grad(y, x, create_graph=True)
    assert g.item() == 27.0 and g.requires_grad
    (g2,) = torch.autograd.grad(g, x)
    assert g2.item() == 18.0  # PyTorch
    assert x.grad is None
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = torch.tensor([3.0, 4.0], requires_grad=True)
    out = a * b
    ga, gb = torch.autograd.grad([out], [a, b], grad_outputs=[torch.tensor([1.0, 10.0])])
    assert ga.tolist() == [3.0, 40.0] and gb.tolist() == [1.0, 20.0]
    ga, gb = torch.autograd.grad((a * 2).sum(), (a, b), allow_unused=True)
    assert ga.tolist() == [2.0, 2.0] and gb is None
    ga, gb = torch.autograd.grad((a * 2).sum(), (a, b), materialize_grads=True)
    assert gb.tolist() == [0.0, 0.0]
    # two outputs summed
    (g,) = torch.autograd.grad([a.sum(), (a * a).sum()], a)
    assert g.tolist() == [3.0, 5.0]
    # retain_graph
    s = (a * a).sum()
    torch.autograd.grad(s, a, retain_graph=True)
    (g,) = torch.autograd.grad(s, a)
    assert g.tolist() == [2.0, 4.0]


def test_autograd_backward_function():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    torch.autograd.backward([(a * a).sum(), a.sum()])
    assert a.grad.tolist() == [3.0, 5.0]
    a.grad = None
    torch.autograd.backward(a * 2, grad_tensors=torch.tensor([1.0, 3.0]))
    assert a.grad.tolist() == [2.0, 6.0]


def test_second_derivative_of_tanh():
    x = torch.tensor([0.5, -1.0], requires_grad=True)
    (g,) = torch.autograd.grad(x.tanh().sum(), x, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), x)
    t = np.tanh([0.5, -1.0])
    assert close(g, 1 - t ** 2) and close(h, -2 * t * (1 - t ** 2))


def test_copy_pickle_deepcopy():
    import copy
    import pickle
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    x.grad = torch.tensor([0.5, 0.5])
    c = copy.copy(x)
    assert c.tolist() == [1.0, 2.0] and c.requires_grad and c is not x
    d = copy.deepcopy(x)
    assert d.grad.tolist() == [0.5, 0.5] and d.requires_grad and d.is_leaf
    p = pickle.loads(pickle.dumps(torch.tensor([[1, 2]])))
    assert p.dtype is torch.int64 and p.tolist() == [[1, 2]]
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(x * 2)


# Printed by PyTorch 2.x for the same tensors (pasted).
PYTORCH_REPRS = 'tensor([[1., 2.],\n        [3., 4.]], requires_grad=True)\n---\ntensor([[2., 4.],\n        [6., 8.]], grad_fn=<MulBackward0>)\n---\ntensor(20., grad_fn=<SumBackward0>)\n---\ntensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n        1.9990e+03])\n---\ntensor([[ 0,  1,  2,  3],\n        [ 4,  5,  6,  7],\n        [ 8,  9, 10, 11]])\n---\ntensor([1.0000e-08, 1.0000e+00])\n---\ntensor([[ True, False]])\n---\ntensor([], dtype=torch.int64)\n---\ntensor([], size=(2, 0))\n---\ntensor(-0.5000, dtype=torch.float64)\n---\ntensor([1.5000,    nan,    inf])\n---\ntensor([1.2346e+08])\n---\ntensor([      1, -100000])\n---\ntensor([[[ 0.,  1.,  2.,  3.],\n         [ 4.,  5.,  6.,  7.],\n         [ 8.,  9., 10., 11.]],\n\n        [[12., 13., 14., 15.],\n         [16., 17., 18., 19.],\n         [20., 21., 22., 23.]]])\n---\ntensor([[1., 2.],\n        [3., 4.]])\n---\ntensor([0.1000, 0.2500], dtype=torch.float64, requires_grad=True)\n---\n'


def test_repr_matches_pytorch_printing():
    x = torch.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    cases = [x, x * 2, (x * 2).sum(), torch.arange(2000.), torch.arange(12).reshape(3, 4), torch.tensor([1e-8, 1.]),
             torch.tensor([[True, False]]), torch.tensor([], dtype=torch.int64), torch.zeros(2, 0), torch.tensor(-0.5, dtype=torch.float64),
             torch.tensor([1.5, float('nan'), float('inf')]), torch.tensor([123456789.]), torch.tensor([1, -100000]),
             torch.arange(24.).reshape(2, 3, 4), x.detach(), torch.tensor([0.1, 0.25], dtype=torch.float64, requires_grad=True)]
    got = "".join(repr(c) + "\n---\n" for c in cases)
    assert got == PYTORCH_REPRS
