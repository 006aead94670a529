//! Checks of a backward pass's arguments, made before anything changes, with PyTorch's
//! messages: the output gradients (count, shape, dtype, the implicit scalar seed) and the
//! inputs (not empty, requiring grad).

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// One gradient per output: the given ones (cast to the output's dtype) or, for one-element
/// outputs, ones. An empty `grad_outputs` means "all implicit".
pub(super) fn seeds(outputs: &[Tensor], grad_outputs: &[Option<Tensor>]) -> Result<Vec<Tensor>> {
    if !grad_outputs.is_empty() && grad_outputs.len() != outputs.len() {
        return Err(Error::invalid(
            "backward",
            format!(
                "got {} tensors and {} gradients",
                outputs.len(),
                grad_outputs.len()
            ),
        ));
    }
    let mut seeds = Vec::with_capacity(outputs.len());
    for (i, out) in outputs.iter().enumerate() {
        if !out.requires_grad() {
            return Err(Error::NoGradFn(i));
        }
        seeds.push(match grad_outputs.get(i).and_then(|g| g.as_ref()) {
            Some(g) if g.shape() != out.shape() => {
                return Err(Error::GradShapeMismatch {
                    index: i,
                    grad: g.shape().to_vec(),
                    output: out.shape().to_vec(),
                })
            }
            Some(g) => g.to_dtype(out.dtype()),
            None if out.numel() != 1 => return Err(Error::ImplicitGradNonScalar),
            None => out.ones_like(),
        });
    }
    Ok(seeds)
}

/// The `inputs` of `grad()` or `backward()` (`op`) are not empty (checked first).
pub(super) fn not_empty(op: &'static str, inputs: &[Tensor]) -> Result<()> {
    if inputs.is_empty() {
        let msg = format!("`inputs` argument to `{op}()` cannot be empty.");
        return Err(Error::invalid(op, msg));
    }
    Ok(())
}

/// Every one of the `inputs` of `grad()` or `backward()` (`op`) requires grad (checked after
/// the seeds).
pub(super) fn require_grad(op: &'static str, inputs: &[Tensor]) -> Result<()> {
    if inputs.iter().all(|t| t.requires_grad()) {
        return Ok(());
    }
    Err(match op {
        // `backward` asks each input to retain its gradient, and that is what fails.
        "backward" => Error::invalid(
            op,
            "can't retain_grad on Tensor that has requires_grad=False",
        ),
        _ => Error::InputDoesNotRequireGrad,
    })
}
