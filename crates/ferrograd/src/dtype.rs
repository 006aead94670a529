//! Runtime element types.

use std::fmt;

/// The element type of a [`Tensor`](crate::Tensor), chosen at run time as in PyTorch.
///
/// `F32` is the default for floating tensors (like `torch.get_default_dtype()`); `Bool` holds the
/// results of comparisons. Only floating dtypes can require gradients.
///
/// ```
/// use ferrograd::{DType, Tensor};
/// let x = Tensor::new([1.0, 2.0]);
/// assert_eq!(x.dtype(), DType::F32);
/// assert!(DType::F64.is_floating_point());
/// assert_eq!(DType::Bool.to_string(), "torch.bool");
/// assert_eq!(Tensor::new([1, 2]).dtype(), DType::I64);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    /// 32-bit IEEE float (`torch.float32`), the default.
    F32,
    /// 64-bit IEEE float (`torch.float64`).
    F64,
    /// Boolean (`torch.bool`).
    Bool,
    /// 64-bit signed integer (`torch.int64`): indices, class labels, integer data.
    I64,
}

impl DType {
    /// Whether values of this type are floating point (and so can require grad).
    ///
    /// ```
    /// assert!(!ferrograd::DType::Bool.is_floating_point());
    /// ```
    pub fn is_floating_point(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    /// PyTorch's scalar type name (`Long` for int64), as its error messages write it.
    ///
    /// ```
    /// assert_eq!(ferrograd::DType::I64.scalar_type(), "Long");
    /// ```
    pub fn scalar_type(self) -> &'static str {
        match self {
            DType::F32 => "Float",
            DType::F64 => "Double",
            DType::Bool => "Bool",
            DType::I64 => "Long",
        }
    }

    /// The type PyTorch's promotion rules give to a binary op between `self` and `other`
    /// when both operands have the same "priority" (both dimensioned or both 0-d).
    ///
    /// ```
    /// use ferrograd::DType;
    /// assert_eq!(DType::F32.promote(DType::F64), DType::F64);
    /// assert_eq!(DType::Bool.promote(DType::F32), DType::F32);
    /// ```
    pub fn promote(self, other: DType) -> DType {
        use DType::*;
        match (self, other) {
            (F64, _) | (_, F64) => F64,
            (F32, _) | (_, F32) => F32,
            (I64, _) | (_, I64) => I64,
            (Bool, Bool) => Bool,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DType::F32 => "torch.float32",
            DType::F64 => "torch.float64",
            DType::Bool => "torch.bool",
            DType::I64 => "torch.int64",
        })
    }
}

/// A floating element type the kernels are generic over (`f32` or `f64`).
///
/// ```
/// use ferrograd::{DType, Float};
/// assert_eq!(<f64 as Float>::DTYPE, DType::F64);
/// assert_eq!(<f32 as Float>::from_f64(0.5), 0.5f32);
/// ```
pub trait Float:
    num_traits::Float
    + num_traits::FloatConst
    + Default
    + Send
    + Sync
    + fmt::Debug
    + fmt::Display
    + std::iter::Sum
    + 'static
{
    /// The runtime tag of this type.
    const DTYPE: DType;
    /// Converts (rounding to nearest) from `f64`.
    fn from_f64(v: f64) -> Self;
    /// The error function.
    fn erf(self) -> Self;
    /// The complementary error function `1 - erf(x)`, accurate for large `x`.
    fn erfc(self) -> Self;
    /// Widens to `f64` exactly.
    fn to_f64(self) -> f64;
    /// A buffer owning `data`.
    #[doc(hidden)]
    #[allow(private_interfaces)]
    fn into_buffer(data: Vec<Self>) -> crate::storage::Buffer;
}

impl Float for f32 {
    const DTYPE: DType = DType::F32;
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    fn erf(self) -> Self {
        libm::erff(self)
    }
    fn erfc(self) -> Self {
        libm::erfcf(self)
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[allow(private_interfaces)]
    fn into_buffer(data: Vec<Self>) -> crate::storage::Buffer {
        crate::storage::Buffer::F32(data.into())
    }
}

impl Float for f64 {
    const DTYPE: DType = DType::F64;
    fn from_f64(v: f64) -> Self {
        v
    }
    fn erf(self) -> Self {
        libm::erf(self)
    }
    fn erfc(self) -> Self {
        libm::erfc(self)
    }
    fn to_f64(self) -> f64 {
        self
    }
    #[allow(private_interfaces)]
    fn into_buffer(data: Vec<Self>) -> crate::storage::Buffer {
        crate::storage::Buffer::F64(data.into())
    }
}
