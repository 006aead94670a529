"""`ferrograd.GradientTape`: TensorFlow's tape. Expected values are closed forms."""

from __future__ import annotations

import pytest

import ferrograd as torch


def test_gradient_of_a_square_at_5() -> None:
    x = torch.tensor(5.0)
    with torch.GradientTape() as t:
        t.watch(x)
        y = x ** 2
    assert t.gradient(y, x).item() == 10.0  # d(x^2)/dx = 2x
    assert [v.item() for v in t.watched_variables()] == [5.0]


def test_a_non_persistent_tape_computes_one_set_of_gradients() -> None:
    x = torch.tensor(2.0)
    with torch.GradientTape() as t:
        t.watch(x)
        y = x ** 3
    t.gradient(y, x)
    with pytest.raises(RuntimeError, match="non-persistent"):
        t.gradient(y, x)


def test_persistent_tape_structures_and_output_gradients() -> None:
    a, b = torch.tensor([1.0, 2.0]), torch.tensor(3.0)
    u = torch.tensor(1.0)
    with torch.GradientTape(persistent=True) as t:
        t.watch([a, b, u])
        y = (a * b).sum()  # dy/da = b, dy/db = sum(a)
    ga, gb = t.gradient(y, [a, b])
    assert ga.tolist() == [3.0, 3.0] and gb.item() == 3.0
    d = t.gradient(y, {"a": a, "pair": (b, u)})
    assert d["a"].tolist() == [3.0, 3.0]
    assert isinstance(d["pair"], tuple) and d["pair"][0].item() == 3.0 and d["pair"][1] is None
    z = t.gradient(y, u, unconnected_gradients="zero")
    assert z.item() == 0.0
    assert t.gradient(y, b, output_gradients=torch.tensor(2.0)).item() == 6.0


def test_jacobian_and_batch_jacobian() -> None:
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    with torch.GradientTape(persistent=True) as t:
        t.watch(x)
        y = x ** 2
    j = t.jacobian(y, x)  # d(x_ij^2)/dx_kl = 2 x_ij [ij == kl]
    assert list(j.shape) == [2, 2, 2, 2]
    assert j[1, 0, 1, 0].item() == 6.0 and j[1, 0, 0, 1].item() == 0.0
    bj = t.batch_jacobian(y, x)  # per row: diag(2 x_b)
    assert bj.tolist() == [[[2.0, 0.0], [0.0, 4.0]], [[6.0, 0.0], [0.0, 8.0]]]


def test_stop_recording_and_nested_tapes_for_second_derivatives() -> None:
    x = torch.tensor(2.0)
    with torch.GradientTape() as outer:
        outer.watch(x)
        with torch.GradientTape() as inner:
            inner.watch(x)
            y = x ** 3
        dy = inner.gradient(y, x)  # 3x^2 = 12
        with outer.stop_recording():
            assert not (x * 2).requires_grad
    assert dy.item() == 12.0
    assert outer.gradient(dy, x).item() == 12.0  # 6x = 12


def test_watch_rejects_what_it_cannot_track() -> None:
    t = torch.GradientTape()
    with pytest.raises(TypeError):
        t.watch(1.0)
    with pytest.raises(RuntimeError):
        t.watch(torch.tensor([True]))
