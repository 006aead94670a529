"""`ferrograd.func`: torch.func's transforms over Python functions. Every expected value is
a loop of single-member calls, ordinary autograd, `autograd.functional`, or mathematics."""

import math

import pytest

import ferrograd as torch
from ferrograd.autograd import functional
from ferrograd.func import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, vjp, vmap

F64 = torch.float64


def randn(*shape):
    return torch.randn(*shape, dtype=F64)


def close(a, b, tol=1e-12):
    assert a.shape == b.shape, (a.shape, b.shape)
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    diff = (a - b).abs().max().item() if a.numel() else 0.0
    assert diff <= tol * (1 + (b.abs().max().item() if b.numel() else 0.0)), diff


@pytest.fixture(autouse=True)
def seed():
    torch.manual_seed(0)


def f(x, y):
    return torch.sin(x) * y.sum() + (x * x).sum(-1, keepdim=True)


# ------------------------------------------------------------------ vmap


@pytest.mark.parametrize("d", [0, 1, 2, -1])
def test_vmap_equals_loop_for_batch_dim_anywhere(d):
    shape = [3, 4]
    shape.insert(d % 3, 5)
    x, y = randn(*shape), randn(*shape)
    expected = torch.stack([f(x.select(d, i), y.select(d, i)) for i in range(5)])
    close(vmap(f, in_dims=d)(x, y), expected)
    close(vmap(f, in_dims=(d, d))(x, y), expected)


def test_vmap_in_dims_none_and_out_dims():
    x, y = randn(5, 3, 4), randn(3, 4)
    loop = torch.stack([f(x[i], y) for i in range(5)])
    close(vmap(f, in_dims=(0, None))(x, y), loop)
    close(vmap(f, in_dims=(0, None), out_dims=1)(x, y), loop.permute(1, 0, 2))
    close(vmap(f, in_dims=(0, None), out_dims=-1)(x, y), loop.permute(1, 2, 0))
    # the batch dim of the second argument in the middle, the first unbatched
    y2 = randn(3, 5, 4)
    close(vmap(f, in_dims=(None, 1))(y, y2), torch.stack([f(y, y2[:, i]) for i in range(5)]))


def test_vmap_nested_structures_and_non_tensor_arguments():
    def g(d, scale, nothing):
        assert nothing is None
        a, (b, c) = d["a"], d["b"]
        return {"s": (a * b).sum() * scale, "p": (a + c, [b * c])}

    a, b, c = randn(6, 3), randn(3, 6), randn(3)
    out = vmap(g, in_dims=({"a": 0, "b": (1, None)}, None, None))({"a": a, "b": (b, c)}, 2.5, None)
    for i in range(6):
        ref = g({"a": a[i], "b": (b[:, i], c)}, 2.5, None)
        close(out["s"][i], ref["s"])
        close(out["p"][0][i], ref["p"][0])
        close(out["p"][1][0][i], ref["p"][1][0])
    assert isinstance(out["p"], tuple) and isinstance(out["p"][1], list)
    # out_dims as a structure
    two = vmap(lambda x: (x * 2, x.sum()), out_dims=(1, 0))(a)
    close(two[0], (a * 2).t())
    close(two[1], a.sum(1))


def test_vmap_chunk_size_equals_unchunked():
    x, y = randn(7, 3, 4), randn(7, 3, 4)
    full = vmap(f)(x, y)
    for c in (1, 2, 3, 7, 100):
        close(vmap(f, chunk_size=c)(x, y), full)


def test_vmap_of_vmap_is_a_double_loop():
    x, y = randn(3, 4, 5), randn(4, 5)
    out = vmap(vmap(lambda a, b: (a * b).sum()), in_dims=(0, None))(x, y)
    expected = torch.tensor([[(x[i, j] * y[j]).sum().item() for j in range(4)] for i in range(3)],
                            dtype=F64)
    close(out, expected)


def test_vmap_errors_are_torch_func_errors():
    x = randn(3, 4)
    with pytest.raises(ValueError, match="same size in the mapped dimension, got sizes \\[3, 2\\]"):
        vmap(lambda a, b: a + b)(x, randn(2, 4))
    with pytest.raises(ValueError, match="in_dims is not compatible with the structure of `inputs`"):
        vmap(lambda a, b: a + b, in_dims=(0,))(x, x)
    with pytest.raises(ValueError, match="expected in_dim to satisfy -2 <= in_dim < 2"):
        vmap(lambda a: a, in_dims=2)(x)
    with pytest.raises(ValueError, match="expected `in_dims` to be int or a"):
        vmap(lambda a: a, in_dims=None)(x)
    with pytest.raises(ValueError, match="We cannot vmap over non-Tensor arguments"):
        vmap(lambda a, n: a * n)(x, 2.0)
    with pytest.raises(ValueError, match="must only return Tensors, got type <class 'int'>"):
        vmap(lambda a: 3)(x)
    with pytest.raises(ValueError, match="chunk_size should be None or greater than 0"):
        vmap(lambda a: a, chunk_size=0)
    with pytest.raises(IndexError, match="out of range"):
        vmap(lambda a: a, out_dims=3)(x)
    with pytest.raises(IndexError, match="Dimension out of range"):
        vmap(lambda a: (a,), out_dims=(3,))(x)


def test_item_inside_vmap_is_torch_error():
    with pytest.raises(RuntimeError, match="vmap: It looks like you're calling .item\\(\\) on a Tensor"):
        vmap(lambda a: a * a.sum().item())(randn(3, 4))


def test_randomness_modes():
    x = torch.zeros(4, 3, dtype=F64)
    with pytest.raises(RuntimeError, match="vmap: called random operation while in randomness error mode"):
        vmap(lambda a: a + torch.rand(3, dtype=F64))(x)
    diff = vmap(lambda a: a + torch.rand(3, dtype=F64), randomness="different")(x)
    same = vmap(lambda a: a + torch.rand(3, dtype=F64), randomness="same")(x)
    assert diff.shape == same.shape == (4, 3)
    assert all((same[i] == same[0]).all().item() for i in range(4))
    assert not (diff[1] == diff[0]).all().item()
    assert ((diff >= 0) & (diff < 1)).all().item()
    with pytest.raises(RuntimeError, match="Only allowed values for randomness"):
        vmap(lambda a: a, randomness="sometimes")


class Boom(Exception):
    pass


def test_exceptions_inside_the_function_propagate_unchanged():
    err = Boom("inside")

    def bad(x):
        if True:
            raise err
        return x

    for t in (vmap(bad), grad(bad), vmap(grad(bad)), grad(grad(bad)), jacrev(bad), jacfwd(bad),
              hessian(bad), vmap(vmap(bad))):
        with pytest.raises(Boom) as info:
            t(randn(3, 3))
        assert info.value is err
    with pytest.raises(Boom):
        vjp(bad, randn(3))
    with pytest.raises(Boom):
        jvp(bad, (randn(3),), (randn(3),))
    # and the next call works
    close(vmap(lambda a: a * 2)(torch.ones(2, dtype=F64)), torch.full((2,), 2.0, dtype=F64))


# ------------------------------------------------------------------ grad


def mlp_loss(params, x, target):
    h = torch.tanh(params["w1"] @ x + params["b1"])
    logits = params["w2"] @ h + params["b2"]
    return -(torch.log_softmax(logits, -1) * target).sum()


def mlp_params():
    return {"w1": randn(16, 8), "b1": randn(16), "w2": randn(4, 16), "b2": randn(4)}


def loop_grads(loss, params, xs, ts):
    out = {k: [] for k in params}
    for i in range(xs.shape[0]):
        ps = {k: v.detach().requires_grad_(True) for k, v in params.items()}
        gs = torch.autograd.grad(loss(ps, xs[i], ts[i]), list(ps.values()))
        for k, g in zip(ps, gs):
            out[k].append(g)
    return {k: torch.stack(v) for k, v in out.items()}


def one_hot(n, classes):
    return torch.eye(classes, dtype=F64)[torch.tensor([i * 7 % classes for i in range(n)])]


def test_per_sample_gradients_of_an_mlp_equal_the_loop():
    params, xs, ts = mlp_params(), randn(64, 8), one_hot(64, 4)
    got = vmap(grad(mlp_loss), in_dims=(None, 0, 0))(params, xs, ts)
    want = loop_grads(mlp_loss, params, xs, ts)
    assert set(got) == set(want)
    for k in want:
        close(got[k], want[k])


def conv_loss(params, x, target):
    h = torch.nn.functional.conv2d(x.unsqueeze(0), params["k"], params["kb"], padding=1)
    h = torch.relu(h).reshape(-1)
    logits = params["w"] @ h
    return -(torch.log_softmax(logits, -1) * target).sum()


def test_per_sample_gradients_of_a_convnet_equal_the_loop():
    params = {"k": randn(3, 2, 3, 3), "kb": randn(3), "w": randn(5, 3 * 6 * 6)}
    xs, ts = randn(64, 2, 6, 6), one_hot(64, 5)
    got = vmap(grad(conv_loss), in_dims=(None, 0, 0))(params, xs, ts)
    want = loop_grads(conv_loss, params, xs, ts)
    for k in want:
        close(got[k], want[k])


def test_grad_of_grad_and_higher_orders():
    x = torch.tensor([0.3, -1.2, 2.0], dtype=F64)
    g = lambda t: (torch.sin(t) * t ** 3).sum()
    d2 = vmap(grad(grad(lambda t: torch.sin(t) * t ** 3)))(x)
    # (sin t * t^3)'' = -sin t * t^3 + 6 cos t * t^2 + 6 sin t * t
    expected = [-math.sin(t) * t ** 3 + 6 * math.cos(t) * t ** 2 + 6 * math.sin(t) * t
                for t in x.tolist()]
    close(d2, torch.tensor(expected, dtype=F64))
    close(grad(g)(x), torch.tensor([math.cos(t) * t ** 3 + 3 * math.sin(t) * t ** 2
                                    for t in x.tolist()], dtype=F64))
    d3 = grad(grad(grad(torch.sin)))(torch.tensor(0.0, dtype=F64))
    assert d3.item() == -1.0


def test_argnums_and_has_aux():
    x, y = randn(3), randn(3)
    h = lambda a, b: (a * b * b).sum()
    ga, gb = grad(h, argnums=(0, 1))(x, y)
    close(ga, y * y)
    close(gb, 2 * x * y)
    close(grad(h, argnums=1)(x, y), 2 * x * y)
    close(grad(h, argnums=-1)(x, y), 2 * x * y)
    (g,) = grad(h, argnums=(0,))(x, y)
    close(g, y * y)
    g, aux = grad(lambda a: ((a * a).sum(), {"double": a * 2, "n": 7}), has_aux=True)(x)
    close(g, 2 * x)
    close(aux["double"], x * 2)
    assert aux["n"] == 7
    (g, (v, aux)) = grad_and_value(lambda a: ((a * a).sum(), a.sum()), has_aux=True)(x)
    close(g, 2 * x)
    close(v, (x * x).sum())
    close(aux, x.sum())
    g, v = grad_and_value(h, argnums=(1,))(x, y)
    close(g[0], 2 * x * y)
    close(v, h(x, y))
    # not differentiated: numbers pass through
    close(grad(lambda a, s: (a * s).sum())(x, 3.0), torch.full((3,), 3.0, dtype=F64))


def test_grad_errors_are_torch_func_errors():
    x = randn(3)
    with pytest.raises(RuntimeError, match="Expected f\\(\\*args\\) to return a scalar Tensor, got tensor with 1 dims"):
        grad(lambda a: a)(x)
    with pytest.raises(RuntimeError, match="Expected f\\(\\*args\\) to return a Tensor, got <class 'float'>"):
        grad(lambda a: 3.0)(x)
    with pytest.raises(RuntimeError, match="Got argnum=1, but only 1 positional inputs"):
        grad(lambda a: a.sum(), argnums=1)(x)
    with pytest.raises(RuntimeError, match="argnums elements must be unique"):
        grad(lambda a: a.sum(), argnums=(0, 0))(x)
    with pytest.raises(RuntimeError, match="argnums must be non-empty"):
        grad(lambda a: a.sum(), argnums=())(x)
    with pytest.raises(RuntimeError, match="should be a tuple: \\(output, aux\\) if has_aux is True"):
        grad(lambda a: a.sum(), has_aux=True)(x)


# ------------------------------------------------------------------ vjp, jvp, Jacobians


def test_vjp_and_jvp():
    x = randn(4)
    out, fn = vjp(torch.sin, x)
    close(out, torch.sin(x))
    v = randn(4)
    (g,) = fn(v)
    close(g, v * torch.cos(x))
    out, fn, aux = vjp(lambda a, b: ({"p": a * b}, a.sum()), x, v, has_aux=True)
    ga, gb = fn({"p": torch.ones(4, dtype=F64)})
    close(ga, v)
    close(gb, x)
    close(aux, x.sum())
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        vjp(torch.sin, x)[1](randn(2))
    y, t = jvp(torch.sin, (x,), (v,))
    close(y, torch.sin(x))
    close(t, v * torch.cos(x))
    y, t, aux = jvp(lambda a: (a * a, a.sum()), (x,), (v,), has_aux=True)
    close(t, 2 * x * v)
    close(aux, x.sum())
    with pytest.raises(RuntimeError, match="Expected primals to be a tuple"):
        jvp(torch.sin, x, v)
    with pytest.raises(RuntimeError, match="same python structure"):
        jvp(torch.sin, (x,), ())


def test_vmap_of_jvp_equals_forward_mode_per_row():
    g = lambda a: torch.tanh(a) * a.sum()
    xs, vs = randn(6, 4), randn(6, 4)
    ts = vmap(lambda x, v: jvp(g, (x,), (v,))[1])(xs, vs)
    for i in range(6):
        _, want = functional.jvp(g, xs[i], vs[i])
        close(ts[i], want)


def test_jacrev_jacfwd_equal_functional_jacobian():
    g = lambda a, b: torch.sin(a) * (b ** 2).sum() + a.prod()
    a, b = randn(3), randn(2)
    want = functional.jacobian(g, (a, b))
    for jac in (jacrev, jacfwd):
        ja, jb = jac(g, argnums=(0, 1))(a, b)
        close(ja, want[0])
        close(jb, want[1])
        close(jac(g)(a, b), want[0])
    # several outputs, and dict arguments
    two = jacrev(lambda p: (p["u"] * 2, p["u"].sum()))({"u": a})
    close(two[0]["u"], 2 * torch.eye(3, dtype=F64))
    close(two[1]["u"], torch.ones(3, dtype=F64))


def test_hessians_equal_functional_hessian():
    A = randn(5, 5)
    g = lambda x: torch.tanh(A @ x).sum() + (x ** 4).sum()
    x = randn(5)
    want = functional.hessian(g, x)
    close(jacfwd(jacrev(g))(x), want)
    close(hessian(g)(x), want)
    # a batch of Hessians
    xs = randn(4, 5)
    hs = vmap(hessian(g))(xs)
    for i in range(4):
        close(hs[i], functional.hessian(g, xs[i]))
    # tuple argnums: blocks
    h2 = lambda a, b: (torch.sin(a) * b).sum() * b.sum()
    a, b = randn(3), randn(3)
    blocks = hessian(h2, argnums=(0, 1))(a, b)
    want = functional.hessian(h2, (a, b))
    for i in range(2):
        for j in range(2):
            close(blocks[i][j], want[i][j])


def test_jacrev_of_jacrev_is_the_hessian():
    g = lambda x: (x ** 3).sum()
    x = torch.tensor([1.0, 2.0], dtype=F64)
    close(jacrev(jacrev(g))(x), torch.tensor([[6.0, 0.0], [0.0, 12.0]], dtype=F64))
