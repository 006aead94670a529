"""`grad_fn` names: a composite op's result shows PyTorch's node name (`StdBackward0`, not
the node of the last primitive it is built from). Every expected name was printed by
PyTorch 2.15 (`type(y.grad_fn).__name__`) for the same expression."""

import pytest

import ferrograd as torch

F = torch.nn.functional

PYTORCH_NAMES = {'x.prod()': 'ProdBackward0',
 'x.prod(1)': 'ProdBackward1',
 'x.std()': 'StdBackward0',
 'x.std(1)': 'StdBackward0',
 'x.var()': 'VarBackward0',
 'x.var(0)': 'VarBackward0',
 'sq.trace()': 'TraceBackward0',
 'x.lerp(o, 0.5)': 'LerpBackward0',
 'x.lerp(o, o)': 'LerpBackward1',
 'x.logsumexp(1)': 'LogsumexpBackward0',
 'x.tril()': 'TrilBackward0',
 'x.triu(1)': 'TriuBackward0',
 'torch.stack([v, v])': 'StackBackward0',
 'v.split(1)[0]': 'SplitBackward0',
 'v.split([1, 2])[1]': 'SplitWithSizesBackward0',
 'v.chunk(3)[0]': 'SplitBackward0',
 'torch.tensor_split(x, 2, 1)[0]': 'SliceBackward0',
 'x.norm(dim=1)': 'LinalgVectorNormBackward0',
 'x.norm(p=1)': 'LinalgVectorNormBackward0',
 'torch.linalg.vector_norm(v)': 'LinalgVectorNormBackward0',
 'x.max(1)[0]': 'MaxBackward0',
 'x.min(1).values': 'MinBackward0',
 'x.kthvalue(1)[0]': 'KthvalueBackward0',
 'x.mode(1)[0]': 'ModeBackward0',
 'x.median(1)[0]': 'MedianBackward1',
 'x.logcumsumexp(1)': 'LogcumsumexpBackward0',
 'v[:1].logcumsumexp(0)': 'LogcumsumexpBackward0',
 'F.gelu(x)': 'GeluBackward0',
 'F.silu(x)': 'SiluBackward0',
 'F.mish(x)': 'MishBackward0',
 'F.selu(x)': 'EluBackward0',
 'F.logsigmoid(x)': 'LogSigmoidBackward0',
 'F.mse_loss(x, o)': 'MseLossBackward0',
 "F.mse_loss(x, o, reduction='none')": 'MseLossBackward0',
 'F.smooth_l1_loss(x, o)': 'SmoothL1LossBackward0',
 'F.huber_loss(x, o)': 'HuberLossBackward0',
 'F.binary_cross_entropy(x.sigmoid(), o)': 'BinaryCrossEntropyBackward0',
 'F.binary_cross_entropy_with_logits(x, o)': 'BinaryCrossEntropyWithLogitsBackward0',
 'F.cross_entropy(x, torch.tensor([0, 2]))': 'NllLossBackward0',
 'F.nll_loss(x, torch.tensor([0, 2]))': 'NllLossBackward0',
 'F.layer_norm(x, (3,))': 'NativeLayerNormBackward0',
 'x.T': 'PermuteBackward0',
 'x.t()': 'TBackward0',
 'x.mv(v)': 'MvBackward0',
 'torch.addmm(v[:2, None], x, o.t())': 'AddmmBackward0',
 'torch.linalg.matrix_exp(sq)': 'LinalgMatrixExpBackward0',
 'torch.linalg.pinv(sq)': 'LinalgPinvBackward0',
 'x.diag_embed()': 'DiagEmbedBackward0',
 'torch.linalg.cross(x, o, dim=1)': 'LinalgCrossBackward0',
 'x.nansum()': 'NansumBackward0',
 'x.index_add(0, torch.tensor([0]), o[:1])': 'IndexAddBackward0',
 'x.scatter_add(1, torch.tensor([[0], [1]]), o[:, :1])': 'ScatterAddBackward0',
 'x.index_fill(1, torch.tensor([0]), 0.)': 'IndexFillBackward0',
 'torch.aminmax(x).min': 'AminmaxBackward0',
 'torch.std_mean(x)[0]': 'StdMeanBackward0',
 'torch.var_mean(x)[1]': 'VarMeanBackward0',
 'x.sum()': 'SumBackward0',
 'x.mean(1)': 'MeanBackward1'}


@pytest.mark.parametrize("expr", sorted(PYTORCH_NAMES))
def test_grad_fn_name_matches_pytorch(expr):
    x = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], requires_grad=True)
    v = torch.tensor([0.5, 1.5, 2.5], requires_grad=True)
    sq = torch.tensor([[2.0, 0.5], [0.5, 3.0]], requires_grad=True)
    o = torch.ones(2, 3)
    y = eval(expr, {"torch": torch, "F": F, "x": x, "v": v, "sq": sq, "o": o})
    assert y.grad_fn.name() == PYTORCH_NAMES[expr]
    assert repr(y).endswith(f"grad_fn=<{PYTORCH_NAMES[expr]}>)")


def test_a_shared_node_keeps_its_name():
    # A composite that returns a tensor an input already holds must not rename that
    # input's node: the name belongs to the op that made it.
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = torch.tensor_split(y, 1)[0]
    assert y.grad_fn.name() == "MulBackward0" and z.grad_fn.name() == "SliceBackward0"
