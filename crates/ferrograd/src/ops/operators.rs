//! `std::ops` for tensors: `&a + &b`, `a * 2.0`, `3.0 * &x`, `-&x`, ... Owned and borrowed
//! operands both work; scalars (`f64` and `i32`, so literals infer) go on either side. Shape errors panic with
//! the `try_` methods' messages.

use crate::tensor::Tensor;
use std::ops::{Add, Div, Mul, Neg, Sub};

macro_rules! tensor_tensor {
    ($trait:ident, $method:ident, $call:ident) => {
        impl $trait<&Tensor> for &Tensor {
            type Output = Tensor;
            fn $method(self, rhs: &Tensor) -> Tensor {
                Tensor::$call(self, rhs)
            }
        }
        impl $trait<Tensor> for &Tensor {
            type Output = Tensor;
            fn $method(self, rhs: Tensor) -> Tensor {
                Tensor::$call(self, &rhs)
            }
        }
        impl $trait<&Tensor> for Tensor {
            type Output = Tensor;
            fn $method(self, rhs: &Tensor) -> Tensor {
                Tensor::$call(&self, rhs)
            }
        }
        impl $trait<Tensor> for Tensor {
            type Output = Tensor;
            fn $method(self, rhs: Tensor) -> Tensor {
                Tensor::$call(&self, &rhs)
            }
        }
    };
}
tensor_tensor!(Add, add, add);
tensor_tensor!(Sub, sub, sub);
tensor_tensor!(Mul, mul, mul);
tensor_tensor!(Div, div, div);

macro_rules! tensor_scalar {
    ($($s:ty),*) => {$(
        impl Add<$s> for &Tensor {
            type Output = Tensor;
            fn add(self, rhs: $s) -> Tensor { self.add_scalar(rhs as f64) }
        }
        impl Add<$s> for Tensor {
            type Output = Tensor;
            fn add(self, rhs: $s) -> Tensor { self.add_scalar(rhs as f64) }
        }
        impl Add<&Tensor> for $s {
            type Output = Tensor;
            fn add(self, rhs: &Tensor) -> Tensor { rhs.add_scalar(self as f64) }
        }
        impl Add<Tensor> for $s {
            type Output = Tensor;
            fn add(self, rhs: Tensor) -> Tensor { rhs.add_scalar(self as f64) }
        }
        impl Sub<$s> for &Tensor {
            type Output = Tensor;
            fn sub(self, rhs: $s) -> Tensor { self.sub_scalar(rhs as f64) }
        }
        impl Sub<$s> for Tensor {
            type Output = Tensor;
            fn sub(self, rhs: $s) -> Tensor { self.sub_scalar(rhs as f64) }
        }
        impl Sub<&Tensor> for $s {
            type Output = Tensor;
            fn sub(self, rhs: &Tensor) -> Tensor { rhs.rsub_scalar(self as f64) }
        }
        impl Sub<Tensor> for $s {
            type Output = Tensor;
            fn sub(self, rhs: Tensor) -> Tensor { rhs.rsub_scalar(self as f64) }
        }
        impl Mul<$s> for &Tensor {
            type Output = Tensor;
            fn mul(self, rhs: $s) -> Tensor { self.mul_scalar(rhs as f64) }
        }
        impl Mul<$s> for Tensor {
            type Output = Tensor;
            fn mul(self, rhs: $s) -> Tensor { self.mul_scalar(rhs as f64) }
        }
        impl Mul<&Tensor> for $s {
            type Output = Tensor;
            fn mul(self, rhs: &Tensor) -> Tensor { rhs.mul_scalar(self as f64) }
        }
        impl Mul<Tensor> for $s {
            type Output = Tensor;
            fn mul(self, rhs: Tensor) -> Tensor { rhs.mul_scalar(self as f64) }
        }
        impl Div<$s> for &Tensor {
            type Output = Tensor;
            fn div(self, rhs: $s) -> Tensor { self.div_scalar(rhs as f64) }
        }
        impl Div<$s> for Tensor {
            type Output = Tensor;
            fn div(self, rhs: $s) -> Tensor { self.div_scalar(rhs as f64) }
        }
        impl Div<&Tensor> for $s {
            type Output = Tensor;
            /// PyTorch's `s / x` is `x.reciprocal() * s`.
            fn div(self, rhs: &Tensor) -> Tensor { rhs.reciprocal().mul_scalar(self as f64) }
        }
        impl Div<Tensor> for $s {
            type Output = Tensor;
            fn div(self, rhs: Tensor) -> Tensor { rhs.reciprocal().mul_scalar(self as f64) }
        }
    )*};
}
tensor_scalar!(f64, i32);

impl Neg for &Tensor {
    type Output = Tensor;
    fn neg(self) -> Tensor {
        Tensor::neg(self)
    }
}

impl Neg for Tensor {
    type Output = Tensor;
    fn neg(self) -> Tensor {
        Tensor::neg(&self)
    }
}
