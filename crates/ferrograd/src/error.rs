//! The crate's error type. Messages follow PyTorch's wording where PyTorch has one.

/// Everything that can go wrong in ferrograd. See the [crate docs](crate#errors) for the policy.
///
/// ```
/// use ferrograd::{Error, Tensor};
/// let y = Tensor::new([1.0, 2.0]).requires_grad_(true).mul_scalar(2.0);
/// let err = y.backward_with(&ferrograd::BackwardOptions::new()).unwrap_err();
/// assert_eq!(err, Error::ImplicitGradNonScalar);
/// assert_eq!(err.to_string(), "grad can be implicitly created only for scalar outputs");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// `backward()`/`grad()` without an explicit gradient on a tensor of more than one element.
    #[error("grad can be implicitly created only for scalar outputs")]
    ImplicitGradNonScalar,
    /// An output passed to `backward`/`grad` does not require grad.
    #[error("element {0} of tensors does not require grad and does not have a grad_fn")]
    NoGradFn(usize),
    /// The explicit gradient's shape differs from the output's.
    #[error("Mismatch in shape: grad_output[{index}] has a shape of {grad:?} and output[{index}] has a shape of {output:?}.")]
    GradShapeMismatch {
        /// Position of the output.
        index: usize,
        /// Shape of the gradient given.
        grad: Vec<usize>,
        /// Shape of the output.
        output: Vec<usize>,
    },
    /// The graph's saved tensors were freed by an earlier backward.
    #[error("Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). Saved intermediate values of the graph are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if you need to access saved tensors after calling backward.")]
    BackwardTwice,
    /// An input of `grad` (at this position in `inputs`) gets no gradient from the outputs.
    #[error("The differentiated Tensor at index {index} appears to not have been used in the graph. Set allow_unused=True if this is the desired behavior.")]
    UnusedInput {
        /// The input's position in `inputs`.
        index: usize,
    },
    /// An input of `grad` does not require grad.
    #[error("One of the differentiated Tensors does not require grad")]
    InputDoesNotRequireGrad,
    /// `requires_grad_(true)` on a non-floating tensor.
    #[error("only Tensors of floating point and complex dtype can require gradients")]
    NonFloatRequiresGrad,
    /// `requires_grad_` on a non-leaf.
    #[error("you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().")]
    NonLeafRequiresGrad,
    /// Two shapes that do not broadcast.
    #[error("{op}: The size of tensor a ({a}) must match the size of tensor b ({b}) at non-singleton dimension {dim} (shapes {lhs:?} and {rhs:?})")]
    Broadcast {
        /// The operation.
        op: &'static str,
        /// Size of the first operand at `dim`.
        a: usize,
        /// Size of the second operand at `dim`.
        b: usize,
        /// The offending dimension (counted in the broadcast result).
        dim: usize,
        /// First shape.
        lhs: Vec<usize>,
        /// Second shape.
        rhs: Vec<usize>,
    },
    /// A tensor saved for backward was modified in place afterwards.
    #[error("one of the variables needed for gradient computation has been modified by an inplace operation: {tensor} is at version {version}; expected version {expected} instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, with ferrograd::set_detect_anomaly(true).")]
    ModifiedByInplace {
        /// The tensor, as PyTorch describes it (`[torch.FloatTensor [3]], which is output 0 of
        /// ExpBackward0,` with its producer, or `[torch.FloatTensor [3]]` for a leaf).
        tensor: String,
        /// Its version now.
        version: u64,
        /// Its version when it was saved.
        expected: u64,
    },
    /// Anomaly mode: a backward rule produced NaN or infinite values.
    #[error("Function '{name}' returned {kind} values in its {index}th output.{trace}")]
    Anomaly {
        /// The node.
        name: &'static str,
        /// Which gradient (input position).
        index: usize,
        /// "nan" or "inf".
        kind: &'static str,
        /// Where the node's forward ran (empty if not recorded).
        trace: String,
    },
    /// An in-place operation on a leaf that requires grad, outside `no_grad`.
    #[error("a leaf Variable that requires grad is being used in an in-place operation.")]
    LeafInplace,
    /// An in-place operation on a view of a leaf that requires grad, outside `no_grad`.
    #[error(
        "a view of a leaf Variable that requires grad is being used in an in-place operation."
    )]
    ViewOfLeafInplace,
    /// A call through the [registry](crate::registry) with a wrong number or type of arguments
    /// (Python's `TypeError`); the message names the op and the parameter.
    #[error("{0}")]
    Argument(String),
    /// Any other invalid argument: the operation's name and what is wrong, shapes included.
    #[error("{op}: {msg}")]
    Invalid {
        /// The operation.
        op: &'static str,
        /// What is wrong.
        msg: String,
    },
}

impl Error {
    pub(crate) fn invalid(op: &'static str, msg: impl Into<String>) -> Error {
        Error::Invalid {
            op,
            msg: msg.into(),
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
