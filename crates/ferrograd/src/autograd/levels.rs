//! Differentiable crossings between vmap levels (see [`crate::batching`]): into a level
//! (`to_level`), out of it (`from_level`), and the engine's reduction of a gradient over the
//! batch of a finished level that its input was not batched at ([`fit`]).

use crate::batching;
use crate::tensor::Tensor;

/// `x` (batch at dim 0) as a tensor batched at `level`, differentiable with respect to `x`.
pub(crate) fn to_level(x: &Tensor, level: u64) -> Tensor {
    let b = x.shape()[0];
    crate::autograd::record(
        "VmapBackward0",
        batching::wrap(x.with_grad_fn(None), level),
        &[x],
        move |_, _| move |a| smallvec::smallvec![Some(from_level(a.grad, level, b))],
        move |j| {
            let t = j.t(0).expect("tangent");
            // A batch of forward-mode tangents comes first: the vmap batch goes in front.
            let t = if j.b() == 1 {
                movedim(t, 1, 0)
            } else {
                t.clone()
            };
            batching::wrap(t, level)
        },
    )
}

/// The physical value of `y` at `level` (batch at dim 0), differentiable with respect to `y`;
/// a `y` not batched at `level` is repeated `b` times.
pub(crate) fn from_level(y: &Tensor, level: u64, b: usize) -> Tensor {
    match batching::unwrap(y, level) {
        Some(p) => crate::autograd::record(
            "VmapBackward0",
            p.with_grad_fn(None),
            &[y],
            move |_, _| move |a| smallvec::smallvec![Some(to_level(a.grad, level))],
            move |j| {
                let t = from_level(j.t(0).expect("tangent"), level, b);
                if j.b() == 1 {
                    movedim(&t, 0, 1)
                } else {
                    t
                }
            },
        ),
        None => {
            let mut s = vec![b];
            s.extend_from_slice(y.shape());
            y.unsqueeze(0).expand(&s)
        }
    }
}

/// `x` with dim `from` moved to position `to`.
pub(crate) fn movedim(x: &Tensor, from: usize, to: usize) -> Tensor {
    let mut perm: Vec<isize> = (0..x.dim() as isize)
        .filter(|&d| d != from as isize)
        .collect();
    perm.insert(to, from as isize);
    x.permute(&perm)
}

/// Runs a batched forward on physical values: not recorded (the logical op records the node)
/// and without forward-mode propagation (the logical op's JVP rule gives the tangent).
pub(crate) fn physically<R>(f: impl FnOnce() -> R) -> R {
    crate::forward_ad::suspended(|| crate::with_no_grad(f))
}

/// The batching rule of an operation that runs on any number of leading dims (window maxima,
/// sorting along a dim, ...): a batched `x` is lowered to its physical value (the batch one
/// more leading dim) through a differentiable level crossing, `op` runs once on it, recorded
/// as usual, and its outputs are lifted back to the level. Gradients of every order flow
/// through the crossings. An unbatched `x` goes to `op` as it is.
pub(crate) fn lowered(
    x: &Tensor,
    op: impl FnOnce(&Tensor) -> crate::Result<Vec<Tensor>>,
) -> crate::Result<Vec<Tensor>> {
    lowered_all(std::slice::from_ref(x), |p| op(&p[0]))
}

/// [`lowered`] for several inputs: those not batched at the highest level are repeated over
/// its batch, so every input reaches `op` with the batch as dim 0.
pub(crate) fn lowered_all(
    xs: &[Tensor],
    op: impl FnOnce(&[Tensor]) -> crate::Result<Vec<Tensor>>,
) -> crate::Result<Vec<Tensor>> {
    let refs: Vec<&Tensor> = xs.iter().collect();
    let Some(level) = batching::level(&refs) else {
        return op(xs);
    };
    let b = batching::size(&refs, level);
    let ps: Vec<Tensor> = xs.iter().map(|x| from_level(x, level, b)).collect();
    let ys = op(&ps)?;
    Ok(ys.iter().map(|y| to_level(y, level)).collect())
}

/// A gradient for an input batched at `input` levels (`None`: none), summed over the batch of
/// every finished level the input was not batched at: such an input was broadcast over that
/// batch, as over a broadcast dim (a gradient taken after an inner vmap returned, such as the
/// outer one of `jacrev(jacrev(f))` or `grad(vmap(f))`). Open levels are kept: a gradient
/// taken inside a vmap is one per member.
pub(crate) fn fit(mut g: Tensor, input: Option<&[u64]>) -> Tensor {
    let input = input.unwrap_or(&[]);
    while let Some(levels) = batching::levels(&g) {
        let Some(&l) = levels
            .iter()
            .find(|l| !input.contains(l) && !batching::is_open(**l))
        else {
            break;
        };
        g = from_level(&g, l, 0).sum_dims(&[0], false);
    }
    g
}
