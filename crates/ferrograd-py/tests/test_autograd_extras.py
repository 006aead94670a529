"""ferrograd.autograd extras: custom Functions, functional, forward_ad, gradcheck.

Expected numbers come from mathematics or were printed by PyTorch 2.x
(`torch.autograd.functional` on the same functions and inputs)."""

import math

import pytest

import ferrograd as torch
import ferrograd.autograd.forward_ad as fwAD
from ferrograd.autograd import Function, gradcheck, gradgradcheck
from ferrograd.autograd.gradcheck import GradcheckError
from ferrograd.autograd.functional import hessian, hvp, jacobian, jvp, vhp, vjp


def f64(data, requires_grad=False):
    return torch.tensor(data, dtype=torch.float64, requires_grad=requires_grad)


def close(t, expected, tol=1e-9):
    got = t.flatten().tolist() if isinstance(t, torch.Tensor) else list(t)
    assert len(got) == len(expected), (got, expected)
    for a, b in zip(got, expected):
        assert abs(a - b) <= tol * max(1.0, abs(b)), (got, expected)


# ---------------------------------------------------------------- custom Function


class MyMul(Function):
    seen_needs = None

    @staticmethod
    def forward(ctx, x, k, y):
        ctx.k = k
        ctx.save_for_backward(x, y)
        MyMul.seen_needs = ctx.needs_input_grad
        return x * y * k

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        MyMul.seen_needs = ctx.needs_input_grad
        return g * y * ctx.k, None, g * x * ctx.k


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        ctx.save_for_forward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x ** 2

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.saved_tensors
        return t * 3 * x ** 2


class MyExp(Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


def test_function_mixed_args_grad_fn_and_needs_input_grad():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = torch.tensor([3.0, 4.0])
    z = MyMul.apply(x, 3, y)
    assert MyMul.seen_needs == (True, False, False)
    assert z.grad_fn.name() == "MyMulBackward"
    assert "MyMulBackward" in repr(z.grad_fn)
    assert z.tolist() == [9.0, 24.0]
    z.sum().backward()
    assert MyMul.seen_needs == (True, False, False)
    assert x.grad.tolist() == [9.0, 12.0]  # k * y


def test_function_no_input_requires_grad():
    z = MyMul.apply(torch.tensor([1.0]), 2, torch.tensor([3.0]))
    assert not z.requires_grad and z.grad_fn is None
    assert z.tolist() == [6.0]


def test_function_double_backward_through_python_backward():
    x = f64([0.5, -1.0], requires_grad=True)
    (g,) = torch.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    close(g, [0.75, 3.0])  # 3 x^2
    (gg,) = torch.autograd.grad(g.sum(), x)
    close(gg, [3.0, -6.0])  # 6 x


def test_function_saved_output_is_connected_for_double_backward():
    x = f64([0.5, -1.0], requires_grad=True)
    (g,) = torch.autograd.grad(MyExp.apply(x).sum(), x, create_graph=True)
    (gg,) = torch.autograd.grad(g.sum(), x)
    close(gg, [math.exp(0.5), math.exp(-1.0)])


def test_function_two_outputs():
    calls = []

    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, a, b):
            calls.append((a.tolist(), b.tolist()))
            return a * 2 + b * 3

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    a, b = Two.apply(x)
    assert a.grad_fn.name() == "TwoBackward" and b.grad_fn.name() == "TwoBackward"
    assert a.tolist() == [2.0, 4.0] and b.tolist() == [3.0, 6.0]
    a.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    assert calls == [([1.0, 1.0], [0.0, 0.0])]  # as PyTorch: zeros for the unused output
    x.grad = None
    (a * 10 + b).sum().backward()
    assert x.grad.tolist() == [23.0, 23.0]


def test_function_set_materialize_grads_false():
    seen = []

    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, a, b):
            seen.append((a is None, b is None))
            return a * 2 if a is not None else b * 3

    x = torch.tensor([1.0], requires_grad=True)
    a, b = Two.apply(x)
    b.sum().backward()
    assert seen == [(True, False)]
    assert x.grad.tolist() == [3.0]


def test_function_mark_non_differentiable_and_non_tensor_output():
    class Idx(Function):
        @staticmethod
        def forward(ctx, x):
            m = x > 0
            ctx.mark_non_differentiable(m)
            return x * 2, m, "tag"

        @staticmethod
        def backward(ctx, g, gm, gs):
            assert gs is None
            return g * 2

    x = torch.tensor([1.0, -1.0], requires_grad=True)
    a, m, tag = Idx.apply(x)
    assert tag == "tag"
    assert a.grad_fn.name() == "IdxBackward"
    assert not m.requires_grad and m.grad_fn is None
    a.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_function_setup_context_style():
    class Scale(Function):
        @staticmethod
        def forward(x, k):
            return x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.k = inputs[1]

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, None

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    Scale.apply(x, 5.0).sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]


def test_function_save_none_and_extra_none_grads():
    class F(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(None, x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            n, x = ctx.saved_tensors
            assert n is None
            return g * 2, None, None  # trailing Nones are allowed, as in PyTorch

    x = torch.tensor([1.0], requires_grad=True)
    F.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0]


def test_function_once_differentiable():
    class F(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        @torch.autograd.function.once_differentiable
        def backward(ctx, g):
            assert not torch.is_grad_enabled()
            return g * 2

    x = torch.tensor([1.0], requires_grad=True)
    F.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0]


def test_function_wrong_number_of_grads():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g

    x = torch.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"function BadBackward returned an incorrect number "
                                           r"of gradients \(expected 2, got 1\)"):
        Bad.apply(x, 2).sum().backward()


def test_function_grad_for_non_tensor_input():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g, g

    x = torch.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="returned a gradient different than None at position 2"):
        Bad.apply(x, 2).sum().backward()


def test_function_python_exceptions_surface_unchanged():
    class InBackward(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            raise KeyError("in backward")

    class InForward(Function):
        @staticmethod
        def forward(ctx, x):
            raise ValueError("in forward")

    x = torch.tensor([1.0], requires_grad=True)
    with pytest.raises(KeyError, match="in backward"):
        InBackward.apply(x).sum().backward()
    with pytest.raises(ValueError, match="in forward"):
        InForward.apply(x)
    # A later, unrelated backward is unaffected.
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0]


def test_function_without_forward():
    with pytest.raises(NotImplementedError, match="You must implement the forward function"):
        Function.apply(torch.tensor([1.0]))


def test_function_jvp_forward_mode():
    with fwAD.dual_level():
        d = fwAD.make_dual(torch.tensor([2.0]), torch.tensor([1.0]))
        p, t = fwAD.unpack_dual(Cube.apply(d))
        assert p.tolist() == [8.0] and t.tolist() == [12.0]  # 3 x^2


def test_function_jvp_missing():
    class NoJvp(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    with fwAD.dual_level():
        d = fwAD.make_dual(torch.tensor([1.0]), torch.tensor([1.0]))
        with pytest.raises(NotImplementedError, match="You must implement the jvp function"):
            NoJvp.apply(d)


def test_function_jvp_gets_zeros_and_none():
    seen = []

    class F(Function):
        @staticmethod
        def forward(ctx, x, k, y):
            return x * y * k

        @staticmethod
        def backward(ctx, g):
            return None, None, None

        @staticmethod
        def jvp(ctx, tx, tk, ty):
            seen.append((tx.tolist(), tk, ty.tolist()))
            return tx * 2

    with fwAD.dual_level():
        d = fwAD.make_dual(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 1.0]))
        out = F.apply(d, 3, torch.tensor([1.0, 1.0]))
        assert fwAD.unpack_dual(out).tangent.tolist() == [2.0, 2.0]
    assert seen == [([1.0, 1.0], None, [0.0, 0.0])]  # as PyTorch passes them


def test_function_gradcheck_and_gradgradcheck():
    x = f64([0.5, -1.0, 2.0], requires_grad=True)
    assert gradcheck(Cube.apply, (x,))
    assert gradgradcheck(Cube.apply, (x,))
    assert gradcheck(MyExp.apply, (x,))
    assert gradgradcheck(MyExp.apply, (x,))
    assert gradcheck(Cube.apply, (x,), check_forward_ad=True)


# ---------------------------------------------------------------- functional

X = [0.3, -0.7]
Y = [1.5, 0.2, -0.4]


def fy(x, y):
    return x.sin()[:, None] * y.exp()[None, :], (x * x).sum() * y.sum()


def sy(x, y):
    return x.sin().sum() * (y ** 2).sum() + (x.exp() * x).sum()


def test_jacobian_tuple_inputs_and_outputs():
    J = jacobian(fy, (f64(X), f64(Y)))
    assert isinstance(J, tuple) and len(J) == 2 and all(len(r) == 2 for r in J)
    assert tuple(J[0][0].shape) == (2, 3, 2) and tuple(J[0][1].shape) == (2, 3, 3)
    assert tuple(J[1][0].shape) == (2,) and tuple(J[1][1].shape) == (3,)
    close(J[0][0], [4.281521101809368, 0.0, 1.1668506227890683, 0.0, 0.6403811993702022, 0.0,
                    0.0, 3.427784871286351, 0.0, 0.9341803571065315, 0.0, 0.5126890501905375])
    close(J[0][1], [1.3244296802581714, 0.0, 0.0, 0.0, 0.3609491955082235, 0.0, 0.0, 0.0,
                    0.19809311853369077, -2.8871833678116254, 0.0, 0.0, 0.0,
                    -0.7868492600476814, 0.0, 0.0, 0.0, -0.43183202976614216])
    close(J[1][0], [0.78, -1.82])
    close(J[1][1], [0.58, 0.58, 0.58])


def test_jacobian_single_and_forward_mode():
    x = f64(X)
    j = jacobian(lambda x: x ** 2, x)
    assert isinstance(j, torch.Tensor) and j.tolist() == [[0.6, 0.0], [0.0, -1.4]]
    jf = jacobian(lambda x: x.exp() * x.sum(), x, vectorize=True, strategy="forward-mode")
    close(jf, [0.8099152845456019, 1.3498588075760032, 0.4965853037914095, 0.29795118227484574])
    jr = jacobian(lambda x: x.exp() * x.sum(), x)
    close(jr, jf.flatten().tolist())


def test_jacobian_create_graph_and_strict():
    x = f64(X)
    j = jacobian(lambda x: x ** 3, x, create_graph=True)
    assert j.requires_grad
    jn = jacobian(lambda x: x ** 3, x)
    assert not jn.requires_grad
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function is "
                                           "independent of input 1"):
        jacobian(lambda x, y: x * 2, (x, f64(Y)), strict=True)
    with pytest.raises(RuntimeError, match="not supported together"):
        jacobian(lambda x: x, x, strict=True, vectorize=True)
    with pytest.raises(NotImplementedError):
        jacobian(lambda x: x, x, strategy="forward-mode")


def test_hessian_tuple_inputs():
    H = hessian(sy, (f64(X), f64(Y)))
    assert len(H) == 2 and all(len(r) == 2 for r in H)
    close(H[0][0], [2.3806507511045254, 0.0, 0.0, 2.223894228661176])
    close(H[0][1], [2.866009467376818, 0.38213459565024244, -0.7642691913004849,
                    2.2945265618534654, 0.3059368749137954, -0.6118737498275908])
    close(H[1][0], [2.866009467376818, 2.2945265618534654, 0.38213459565024244,
                    0.3059368749137954, -0.7642691913004849, -0.6118737498275908])
    close(H[1][1], [-0.6973949611527029, 0, 0, 0, -0.6973949611527029, 0, 0, 0,
                    -0.6973949611527029])
    h = hessian(lambda x: (x ** 3).sum(), f64(X))
    assert isinstance(h, torch.Tensor)
    close(h, [1.8, 0.0, 0.0, -4.2])  # diag(6 x)


def test_hvp_vhp():
    v = (f64([1.0, 2.0]), f64([0.5, -1.0, 3.0]))
    o, hv = hvp(sy, (f64(X), f64(Y)), v)
    close([o.item()], [-0.7969608977932469])
    close(hv[0], [1.1387133152412372, 3.453493613852516])
    close(hv[1], [7.106365110507397, 1.6914033066305363, -4.080201574413776])
    o, vh = vhp(sy, (f64(X), f64(Y)), v)
    close(vh[0], [1.1387133152412374, 3.4534936138525163])
    close(vh[1], [7.106365110507397, 1.6914033066305363, -4.080201574413776])
    o, hv = hvp(lambda x: (x ** 3).sum(), f64(X), f64([1.0, 1.0]))
    assert isinstance(hv, torch.Tensor)
    close(hv, [1.8, -4.2])


def test_jvp_tuple():
    v = (f64([1.0, 2.0]), f64([0.5, -1.0, 3.0]))
    o, jv = jvp(fy, (f64(X), f64(Y)), v)
    assert isinstance(o, tuple) and isinstance(jv, tuple) and len(jv) == 2
    close(jv[0], [4.943735941938454, 0.8059014272808447, 1.2346605549712746,
                  5.4119780586668895, 2.6552099742607442, -0.2701179889173513])
    close(jv[1], [-1.4099999999999995])
    o, jv = jvp(lambda x: x ** 2, f64(X), f64([1.0, 1.0]))
    close(jv, [0.6, -1.4])


def test_vjp():
    u = (torch.ones(2, 3, dtype=torch.float64), f64(2.0))
    o, vj = vjp(fy, (f64(X), f64(Y)), u)
    close(vj[0], [7.648752923968638, 1.2346542785834207])
    close(vj[1], [-0.4027536875534541, 0.734099935460542, 0.9262610887675485])
    o, vj = vjp(lambda x: (x.tanh() * 2).sum(), f64(X))
    close([o.item()], [-0.6261103293311452])
    close(vj, [1.8302739236532584, 1.2694791799649172])
    o, vj = vjp(lambda x: x ** 2, f64(X), f64([1.0, 1.0]))
    assert isinstance(vj, torch.Tensor) and not vj.requires_grad
    close(vj, [0.6, -1.4])


def test_functional_errors():
    x = f64(X)
    with pytest.raises(RuntimeError, match="v has invalid size"):
        vjp(lambda x: x * 2, x, torch.ones(3, dtype=torch.float64))
    with pytest.raises(RuntimeError, match="The vector v can only be None"):
        vjp(lambda x: x * 2, x)
    with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors"):
        jacobian(lambda x: 1.0, x)
    with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors"):
        jacobian(lambda x: x, [x])
    with pytest.raises(RuntimeError, match="should contain a single element"):
        hessian(lambda x: x * 2, x)

    def boom(x):
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        jacobian(boom, x)
    with pytest.raises(KeyError, match="boom"):
        hvp(boom, x, x)


def test_functional_under_no_grad():
    with torch.no_grad():
        j = jacobian(lambda x: x ** 2, f64(X))
    assert j.tolist() == [[0.6, 0.0], [0.0, -1.4]]


# ---------------------------------------------------------------- forward_ad


def test_forward_ad_dual_level_make_unpack():
    with fwAD.dual_level():
        x = fwAD.make_dual(f64([0.5, 1.0]), f64([1.0, 0.0]))
        y = x.sin() * x
        u = fwAD.unpack_dual(y)
        assert type(u).__name__ == "UnpackedDualTensor"
        primal, tangent = u
        assert u.primal is primal and u.tangent is tangent
        close(tangent, [math.sin(0.5) + 0.5 * math.cos(0.5), 0.0], 1e-14)
        close(primal, [0.5 * math.sin(0.5), math.sin(1.0)], 1e-14)
        assert fwAD.unpack_dual(f64([1.0])).tangent is None
    # After the level, the tangent is gone.
    assert fwAD.unpack_dual(y).tangent is None


def test_forward_ad_enter_exit_and_errors():
    with pytest.raises(RuntimeError, match="no level exists"):
        fwAD.make_dual(torch.ones(1), torch.ones(1))
    assert fwAD.enter_dual_level() == 0
    try:
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"):
            fwAD.enter_dual_level()
        with pytest.raises(RuntimeError, match="different size"):
            fwAD.make_dual(torch.ones(2), torch.ones(3))
        d = fwAD.make_dual(torch.ones(2), torch.ones(2) * 3)
        assert fwAD.unpack_dual(d * 2).tangent.tolist() == [6.0, 6.0]
    finally:
        fwAD.exit_dual_level()


def test_forward_ad_reverse_over_forward():
    x = f64([0.7], requires_grad=True)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, f64([1.0]))
        t = fwAD.unpack_dual(d.exp() * d).tangent  # (x + 1) e^x
        (g,) = torch.autograd.grad(t.sum(), x)
    close(g, [(0.7 + 2.0) * math.exp(0.7)])


# ---------------------------------------------------------------- gradcheck


def test_gradcheck_ok_and_mismatch():
    x = f64([0.3, -1.2, 2.0], requires_grad=True)
    assert gradcheck(lambda x: (x * x.sin()).sum(), (x,))
    assert gradcheck(lambda x: x.tanh(), x)
    assert gradgradcheck(lambda x: x.tanh(), (x,))
    assert gradgradcheck(lambda x: x.tanh(), (x,), grad_outputs=(f64([1.0, -2.0, 0.5]),))

    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradcheck(Wrong.apply, (x,))
    assert issubclass(GradcheckError, RuntimeError)
    assert gradcheck(Wrong.apply, (x,), raise_exception=False) is False


def test_gradcheck_non_tensor_args_and_tuple_outputs():
    x = f64([0.3, -1.2], requires_grad=True)
    y = f64([2.0, 1.0])  # not checked (does not require grad)
    assert gradcheck(lambda x, k, y: (x * k * y, x.exp()), (x, 3.0, y))


def test_gradcheck_errors():
    with pytest.raises(ValueError, match="expects at least one input tensor to require gradient"):
        gradcheck(lambda x: x * 2, (f64([1.0]),))
    x = f64([0.5], requires_grad=True)

    def boom(x):
        raise IndexError("boom")

    with pytest.raises(IndexError, match="boom"):
        gradcheck(boom, (x,))


class Sq(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * g * x


def test_functional_of_function_without_jvp():
    x = torch.tensor([1.0, 3.0])
    assert jacobian(Sq.apply, x).tolist() == [[2.0, 0.0], [0.0, 6.0]]
    assert hessian(lambda t: Sq.apply(t).sum(), x).tolist() == [[2.0, 0.0], [0.0, 2.0]]
    o, hv = hvp(lambda t: Sq.apply(t).sum(), x, torch.tensor([1.0, 1.0]))
    assert o.item() == 10.0 and hv.tolist() == [2.0, 2.0]
    o, jv = jvp(Sq.apply, x, torch.tensor([1.0, 1.0]))
    assert o.tolist() == [1.0, 9.0] and jv.tolist() == [2.0, 6.0]


def test_function_returning_its_input_and_retain_graph():
    class Ident(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 5

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = Ident.apply(x)
    assert y is not x and y.grad_fn.name() == "IdentBackward"
    y.sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]
    x.grad = None
    z = Sq.apply(x).sum()
    z.backward(retain_graph=True)
    z.backward()
    assert x.grad.tolist() == [4.0, 8.0]
    z = Sq.apply(x).sum()
    z.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        z.backward()


def test_function_two_outputs_saved_double_backward():
    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            a = x.exp()
            b = (2 * x).exp()
            ctx.save_for_backward(a, b)
            return a, b

        @staticmethod
        def backward(ctx, ga, gb):
            a, b = ctx.saved_tensors
            return ga * a + gb * 2 * b

    x = f64([0.3, -0.5], requires_grad=True)
    a, b = Two.apply(x)
    (g,) = torch.autograd.grad(a.sum() + b.sum(), x, create_graph=True)
    close(g, [4.994096408357021, 1.342289542055518])
    (gg,) = torch.autograd.grad(g.sum(), x)
    close(gg, [8.638334009138038, 2.0780484243984025])  # e^x + 4 e^2x
    a, b = Two.apply(x)
    (g,) = torch.autograd.grad((a * b).sum(), x, create_graph=True)
    (gg,) = torch.autograd.grad(g.sum(), x)
    close(gg, [22.136428000412547, 2.0081714413358682])  # 9 e^3x


def test_function_ctx_freed_with_its_outputs():
    import gc
    import weakref

    class Marker:
        pass

    refs = []

    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.marker = Marker()
            refs.append(weakref.ref(ctx.marker))
            a = x.exp()
            ctx.save_for_backward(a)
            return a, a * 2

        @staticmethod
        def backward(ctx, ga, gb):
            (a,) = ctx.saved_tensors
            return ga * a + gb * 2 * a

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    a, b = Two.apply(x)
    assert refs[-1]() is not None
    del a, b
    gc.collect()
    assert refs[-1]() is None
    a, b = Two.apply(x)
    (a + b).sum().backward()
    del a, b
    gc.collect()
    assert refs[-1]() is None


def test_function_setup_context_binds_defaults_and_keywords():
    seen = []

    class Scale(Function):
        @staticmethod
        def forward(x, k=2.0):
            return x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.k = inputs[1]
            seen.append(ctx.needs_input_grad)

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, None

    x = torch.tensor([1.0], requires_grad=True)
    Scale.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0]
    Scale.apply(x, k=3.0).sum().backward()
    assert x.grad.tolist() == [5.0]
    assert seen == [(True, False), (True, False)]


def test_function_bad_returns():
    class BadGrad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return "nope"

        @staticmethod
        def jvp(ctx, t):
            raise KeyError("in jvp")

    class WrongTangentShape(BadGrad):
        @staticmethod
        def jvp(ctx, t):
            return torch.ones(3)

    class FloatTangent(BadGrad):
        @staticmethod
        def jvp(ctx, t):
            return 5.0

    x = torch.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"expected Variable or None \(got str\)"):
        BadGrad.apply(x).sum().backward()
    with fwAD.dual_level():
        d = fwAD.make_dual(torch.tensor([1.0]), torch.tensor([1.0]))
        with pytest.raises(KeyError, match="in jvp"):
            BadGrad.apply(d)
        with pytest.raises(RuntimeError, match="different size"):
            WrongTangentShape.apply(d)
        with pytest.raises(RuntimeError, match=r"expected Variable or None \(got float\)"):
            FloatTangent.apply(d)
