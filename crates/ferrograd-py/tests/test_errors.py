"""Wrong calls raise PyTorch's exception types (never pyo3's PanicException, never a crash),
with PyTorch's messages where they are easy to match, and leave the state intact."""

import threading

import numpy as np
import pytest

import ferrograd as torch


def raises(exc, f, match=None):
    """`f()` raises exactly an `exc` (a subclass counts), not a panic or another error."""
    try:
        f()
    except BaseException as e:  # noqa: BLE001  (a PanicException is a BaseException)
        assert type(e).__name__ != "PanicException", f"panic reached Python: {e}"
        assert isinstance(e, exc), f"expected {exc.__name__}, got {type(e).__name__}: {e}"
        if match is not None:
            import re
            assert re.search(match, str(e)), f"message {str(e)!r} does not match {match!r}"
        return e
    raise AssertionError(f"no exception (expected {exc.__name__})")


X = None


def setup_function(_):
    global X
    X = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)


def teardown_function(_):
    # state intact: grad mode on, the tensor usable and differentiable
    assert torch.is_grad_enabled()
    y = (X * 2).sum()
    X.grad = None
    y.backward()
    assert X.grad.tolist() == [[2.0] * 3] * 2
    assert X.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]


def test_wrong_types():
    raises(TypeError, lambda: torch.exp(None), r"exp\(\): argument .* must be Tensor, not NoneType")
    raises(TypeError, lambda: torch.exp("a"))
    raises(TypeError, lambda: X + "a", "unsupported operand")
    raises(TypeError, lambda: "a" * X)
    raises(TypeError, lambda: X @ 3)
    raises(TypeError, lambda: X.matmul(None))
    raises(TypeError, lambda: X.sum(dim="a"))
    raises(TypeError, lambda: X.sum(dim=1.5))
    raises(TypeError, lambda: X.reshape("a"))
    raises(TypeError, lambda: X.reshape(2.0, 3))
    raises(TypeError, lambda: torch.ones(2.5))
    raises(TypeError, lambda: torch.ones("a"))
    raises(TypeError, lambda: torch.ones(2, dtype="float"))
    raises(TypeError, lambda: torch.tensor("abc"), "new\\(\\): invalid data type 'str'")
    raises(TypeError, lambda: torch.tensor([1, "a"]))
    raises(RuntimeError, lambda: torch.tensor({1: 2}), "Could not infer dtype of dict")
    raises(RuntimeError, lambda: torch.tensor([object()]), "Could not infer dtype of object")
    raises(TypeError, lambda: torch.cat(X))
    raises(TypeError, lambda: torch.cat([X, 1]))
    raises(TypeError, lambda: torch.stack(None))
    raises(TypeError, lambda: X.transpose(0, None))
    raises(TypeError, lambda: X.softmax("x"))
    raises(TypeError, lambda: X.clamp(min="a"))
    raises(TypeError, lambda: X.__setitem__(0, "a"))
    raises(TypeError, lambda: torch.tensor(np.array(["a"])))
    raises(RuntimeError, lambda: torch.autograd.grad(X.sum(), [1]),
           "all inputs have to be Tensors or GradientEdges, but got int")
    raises(TypeError, lambda: torch.autograd.grad(X.sum(), None))
    raises(TypeError, lambda: X.sum().backward(gradient="a"))
    # PyTorch takes a non-callable here and fails in backward; ferrograd refuses it at once.
    raises(TypeError, lambda: X.register_hook(None), "hook must be callable")
    raises(TypeError, lambda: setattr(X, "grad", 3))
    raises(TypeError, lambda: setattr(X, "data", None))
    raises(RuntimeError, lambda: setattr(X, "requires_grad", "yes"), "requires_grad must be a bool")
    raises(TypeError, lambda: X.requires_grad_("yes"))
    raises(TypeError, lambda: iter(torch.tensor(1.0)).__next__())
    raises(TypeError, lambda: len(torch.tensor(1.0)))
    raises(TypeError, lambda: [1, 2][torch.tensor(1.0)])


def test_bad_keywords_and_arg_counts():
    raises(TypeError, lambda: X.exp(1), "exp\\(\\) takes")
    raises(TypeError, lambda: torch.exp(X, X))
    raises(TypeError, lambda: X.sum(foo=1), "unexpected keyword argument 'foo'")
    raises(TypeError, lambda: torch.exp(X, foo=1))
    raises(TypeError, lambda: X.transpose(0, 1, 2))
    raises(TypeError, lambda: torch.ones(2, foo=3))
    raises(TypeError, lambda: torch.tensor([1.0], foo=3))
    raises(TypeError, lambda: X.softmax(0, dim=1))
    # PyTorch takes out= (a RuntimeError here only as X requires grad); ferrograd refuses it.
    raises(TypeError, lambda: torch.add(X, X, out=torch.ones(2, 3)), "out=")
    raises(TypeError, lambda: X.exp(out=X))  # PyTorch: "TensorBase.exp() takes no keyword arguments"
    raises(TypeError, lambda: X.backward(None, None, False, None, 5))
    raises(TypeError, lambda: torch.autograd.grad())


def test_wrong_shapes():
    raises(RuntimeError, lambda: torch.ones(2, 3) @ torch.ones(2, 3),
           "mat1 and mat2 shapes cannot be multiplied \\(2x3 and 2x3\\)")
    raises(RuntimeError, lambda: torch.ones(2) + torch.ones(3),
           "The size of tensor a \\(2\\) must match the size of tensor b \\(3\\) at non-singleton dimension 0")
    raises(RuntimeError, lambda: X.view(4), "shape '\\[4\\]' is invalid for input of size 6")
    raises(RuntimeError, lambda: X.reshape(-1, -1), "only one dimension can be inferred")
    raises(RuntimeError, lambda: torch.cat([torch.ones(2), torch.ones(2, 2)]))
    raises(ValueError, lambda: torch.cat([]), "expected a non-empty list of Tensors")
    raises(RuntimeError, lambda: torch.stack([torch.ones(2), torch.ones(3)]))
    raises(RuntimeError, lambda: X.expand(3, 3))
    raises(RuntimeError, lambda: X.permute(0, 0))
    raises(RuntimeError, lambda: X.narrow(1, 2, 5))
    raises(RuntimeError, lambda: torch.ones(3).pow(torch.ones(2)))
    raises(RuntimeError, lambda: torch.ones(3).split(0))
    raises(RuntimeError, lambda: torch.ones(3).chunk(0))
    raises(RuntimeError, lambda: torch.tensor([[1, 2], [3]]) if False else torch.ones(2, 2).diagonal(0, 0, 0))
    raises(ValueError, lambda: torch.tensor([[1, 2], [3]]), "expected sequence of length 2 at dim 1 \\(got 1\\)")
    raises(TypeError, lambda: torch.tensor([[1, 2], 3]), "not a sequence")
    raises(TypeError, lambda: torch.tensor([1, [2]]))
    raises(RuntimeError, lambda: X.__setitem__(0, torch.ones(2)) if False else torch.ones(3).copy_(torch.ones(2)))
    raises(RuntimeError, lambda: torch.where(torch.tensor([True, False, True]), torch.ones(2), torch.ones(2)))
    raises(RuntimeError, lambda: torch.ones(2, 2).inverse() if False else torch.ones(2, 3).inverse())


def test_bad_dims_and_indices():
    raises(IndexError, lambda: X.sum(dim=5),
           "Dimension out of range \\(expected to be in range of \\[-2, 1\\], but got 5\\)")
    raises(IndexError, lambda: X.size(2), "Dimension out of range")
    raises(IndexError, lambda: X.transpose(0, 5))
    raises(IndexError, lambda: X.softmax(3))
    raises(IndexError, lambda: X.unsqueeze(4))
    raises(IndexError, lambda: X.squeeze(3))
    raises(IndexError, lambda: X.flip(3))
    raises(IndexError, lambda: X.mean(-3))
    raises(IndexError, lambda: X.max(dim=2))
    raises(IndexError, lambda: X.cumsum(7))
    raises(IndexError, lambda: X[5], "index 5 is out of")
    raises(IndexError, lambda: X[0, 0, 0])
    raises(IndexError, lambda: X[[0, 7]])
    raises(IndexError, lambda: X[1.5], "only integers, slices")
    raises(TypeError, lambda: X["a"])
    raises(IndexError, lambda: X[torch.tensor([0.5])])
    raises(IndexError, lambda: X[torch.tensor([True])])
    raises(IndexError, lambda: torch.ones(3).index_select(0, torch.tensor([5])))
    raises(RuntimeError, lambda: torch.ones(3).gather(0, torch.tensor([5])),
           "index 5 is out of bounds for dimension")
    raises(IndexError, lambda: X.select(2, 0))
    raises(IndexError, lambda: X.__setitem__((0, 9), 1.0))


def test_wrong_dtypes():
    raises(RuntimeError, lambda: torch.tensor([1, 2], requires_grad=True),
           "(?i)only Tensors of floating point and complex dtype can require gradients")
    raises(RuntimeError, lambda: torch.ones(2, dtype=torch.int64).requires_grad_())
    raises(RuntimeError, lambda: setattr(torch.ones(2, dtype=torch.bool), "requires_grad", True))
    raises(RuntimeError, lambda: torch.zeros(2, dtype=torch.int64, requires_grad=True))
    raises(RuntimeError, lambda: torch.ones(2, dtype=torch.int64).mean(), "mean\\(\\): could not infer output dtype")
    raises(RuntimeError, lambda: torch.randn(2, dtype=torch.int64))
    raises(RuntimeError, lambda: torch.rand(2, dtype=torch.bool))

    def iadd():
        t = torch.ones(2, dtype=torch.int64)
        t += 2.5
    raises(RuntimeError, iadd, "result type Float can't be cast to the desired output type Long")
    raises(NotImplementedError, lambda: torch.ones(2) & torch.ones(2), "\"bitwise_and_cpu\" not implemented for 'Float'")
    raises(NotImplementedError, lambda: torch.tensor([True]) | 1.5)
    raises(TypeError, lambda: ~torch.ones(2))
    raises(RuntimeError, lambda: torch.tensor([True]) - True, "Subtraction, the `-` operator, with two bool tensors")
    raises(IndexError, lambda: X[torch.tensor([1.0])])


def test_none_where_a_tensor_is_expected():
    raises(TypeError, lambda: X + None)
    raises(TypeError, lambda: None * X)
    raises(TypeError, lambda: torch.add(X, None))
    raises(TypeError, lambda: torch.matmul(None, X))
    raises(TypeError, lambda: torch.where(None, X, X))
    raises(RuntimeError, lambda: torch.tensor(None), "Could not infer dtype of NoneType")
    raises(TypeError, lambda: torch.zeros_like(None))
    raises(TypeError, lambda: torch.cat([None]))
    raises(TypeError, lambda: X.copy_(None))
    raises(TypeError, lambda: X.detach().add_(None))
    raises(TypeError, lambda: X.expand_as(None))


def test_autograd_misuse():
    y = (X * X).sum()
    y.backward()
    raises(RuntimeError, lambda: y.backward(), "Trying to backward through the graph a second time")
    raises(RuntimeError, lambda: (X * 2).backward(), "grad can be implicitly created only for scalar outputs")
    raises(RuntimeError, lambda: torch.ones(2).sum().backward(),
           "element 0 of tensors does not require grad and does not have a grad_fn")
    raises(RuntimeError, lambda: torch.autograd.grad(X.sum(), torch.ones(2, requires_grad=True)),
           "appears to not have been used in the graph")
    raises(RuntimeError, lambda: (X * 2).sum().backward(torch.ones(3)))
    raises(RuntimeError, lambda: torch.ones(2).retain_grad())
    raises(RuntimeError, lambda: torch.ones(2).register_hook(lambda g: g))
    raises(RuntimeError, lambda: X.add_(1), "a leaf Variable that requires grad is being used in an in-place operation")
    raises(RuntimeError, lambda: X.__setitem__(0, 1.0))
    raises(RuntimeError, lambda: X.numpy(), "Can't call numpy\\(\\) on Tensor that requires grad")
    raises(ValueError, lambda: torch.autograd.grad(X.sum(), X, allow_unused=False, materialize_grads=True))
    raises(RuntimeError, lambda: torch.autograd.grad([X.sum()], [X], grad_outputs=[torch.ones(2)]))

    def bad_hook():
        a = torch.ones(2, requires_grad=True)
        a.register_hook(lambda g: 1 / 0)
        (a * 2).sum().backward()
    raises(ZeroDivisionError, bad_hook)

    def hook_returns_wrong_type():
        a = torch.ones(2, requires_grad=True)
        a.register_hook(lambda g: "x")
        (a * 2).sum().backward()
    raises(TypeError, hook_returns_wrong_type)


def test_scalar_conversions():
    raises(RuntimeError, lambda: X.item(), "a Tensor with 6 elements cannot be converted to Scalar")
    raises(RuntimeError, lambda: bool(torch.ones(2)), "Boolean value of Tensor with more than one value is ambiguous")
    raises(RuntimeError, lambda: bool(torch.ones(0)), "Boolean value of Tensor with no values is ambiguous")
    raises(ValueError, lambda: float(torch.ones(2)), "only one element tensors can be converted to Python scalars")
    raises(ValueError, lambda: int(torch.ones(0)))
    raises(ValueError, lambda: torch.tensor(2 ** 70), "Overflow when unpacking long")
    raises(ValueError, lambda: torch.tensor([1, 2 ** 64]), "Overflow when unpacking long")


def test_huge_and_negative_shapes():
    raises(RuntimeError, lambda: torch.ones(2 ** 40, 2 ** 40))
    raises(RuntimeError, lambda: torch.zeros(2 ** 31, 2 ** 31))
    raises(RuntimeError, lambda: torch.ones(2 ** 62, 2 ** 62))
    raises(RuntimeError, lambda: torch.ones(2 ** 63 - 1, 4))
    raises(RuntimeError, lambda: torch.randn(2 ** 40, 2 ** 40))
    raises(RuntimeError, lambda: torch.full((2 ** 40, 2 ** 40), 1.0))
    raises(RuntimeError, lambda: X.expand(2 ** 62, 2, 3))
    raises(RuntimeError, lambda: X.repeat(2 ** 40, 2 ** 40))
    raises(RuntimeError, lambda: X.reshape(2 ** 40, 2 ** 40))
    raises(RuntimeError, lambda: torch.ones(-1), "Trying to create tensor with negative dimension -1: \\[-1\\]")
    raises(RuntimeError, lambda: torch.zeros(2, -3))
    raises(RuntimeError, lambda: torch.eye(-1), "n must be greater or equal to 0, got -1")
    raises(RuntimeError, lambda: torch.linspace(0, 1, -1))
    raises(RuntimeError, lambda: torch.arange(0, 10, 0))
    raises(RuntimeError, lambda: torch.randint(5, 2, (3,)))
    raises(TypeError, lambda: torch.ones(2 ** 64), "Overflow when unpacking long")


def test_device_refused():
    raises(RuntimeError, lambda: torch.ones(2, device="cuda"))
    raises(RuntimeError, lambda: X.to("cuda"))
    assert torch.ones(2, device="cpu").tolist() == [1.0, 1.0]


def test_grad_mode_restored_after_errors():
    with pytest.raises(RuntimeError):
        with torch.no_grad():
            torch.ones(2) @ torch.ones(3)
    assert torch.is_grad_enabled()

    @torch.set_grad_enabled(False)
    def f():
        raise RuntimeError("inner")

    with pytest.raises(RuntimeError):
        f()
    assert torch.is_grad_enabled()


def test_errors_in_threads_stay_in_their_thread():
    errs = []

    def worker():
        try:
            torch.ones(2) + torch.ones(3)
        except RuntimeError as e:
            errs.append(e)

    ths = [threading.Thread(target=worker) for _ in range(4)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    assert len(errs) == 4
    assert (torch.ones(2) + torch.ones(2)).tolist() == [2.0, 2.0]


def test_every_registry_op_survives_garbage_arguments():
    """Each op called with no arguments, with None, with a string and with a wrong-shaped
    tensor raises an ordinary exception (no panic, no crash)."""
    from ferrograd import _C
    garbage = [(), (None,), ("x",), (torch.ones(0),), (torch.ones(2, 3), None),
               (torch.ones(2, 3), torch.ones(4, 5)), (torch.ones(2), 99), (torch.ones(2), -99, 99),
               (torch.tensor([1, 2]),), (torch.tensor([True]), torch.tensor([True]))]
    for op in _C.ops():
        if op.name in ("manual_seed",):
            continue
        for args in garbage:
            try:
                op(*args)
            except BaseException as e:  # noqa: BLE001
                assert type(e).__name__ != "PanicException", (op.name, args, e)
                assert isinstance(e, (TypeError, RuntimeError, IndexError, ValueError,
                                      OverflowError, NotImplementedError)), (op.name, args, type(e), e)
    assert torch.is_grad_enabled()
