//! Flat, typed element buffers shared between tensors and views.
//!
//! Storage knows nothing about shapes or graphs: [`crate::layout::Layout`] says how a tensor reads
//! a buffer, and autograd lives in [`crate::autograd`].

use crate::dtype::DType;
use smallvec::SmallVec;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// How many elements live inline in the storage allocation itself.
pub(crate) const INLINE: usize = 4;

/// Element storage: up to [`INLINE`] elements inline (no heap allocation for scalars and tiny
/// tensors), a heap vector otherwise.
pub(crate) type Data<T> = SmallVec<[T; INLINE]>;

/// Collects `n` items into [`Data`]: inline when small; otherwise through `Vec`'s collect
/// (which vectorizes) and moved, not copied, into the `SmallVec`.
pub(crate) fn collect<T, I: Iterator<Item = T>>(n: usize, it: I) -> Data<T> {
    if n <= INLINE {
        it.collect()
    } else {
        Data::from_vec(it.collect())
    }
}

/// A contiguous buffer of one dtype.
#[derive(Clone, Debug)]
pub(crate) enum Buffer {
    F32(Data<f32>),
    F64(Data<f64>),
    Bool(Data<bool>),
}

impl Buffer {
    pub(crate) fn dtype(&self) -> DType {
        match self {
            Buffer::F32(_) => DType::F32,
            Buffer::F64(_) => DType::F64,
            Buffer::Bool(_) => DType::Bool,
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Buffer::F32(v) => v.len(),
            Buffer::F64(v) => v.len(),
            Buffer::Bool(v) => v.len(),
        }
    }

    /// Element `i` widened to `f64` (bools as 0/1).
    pub(crate) fn get_f64(&self, i: usize) -> f64 {
        match self {
            Buffer::F32(v) => v[i] as f64,
            Buffer::F64(v) => v[i],
            Buffer::Bool(v) => v[i] as u8 as f64,
        }
    }

    /// A buffer of `n` copies of `value` (rounded to `dtype`; non-zero is `true` for bool).
    pub(crate) fn filled(dtype: DType, n: usize, value: f64) -> Buffer {
        match dtype {
            DType::F32 => Buffer::F32(SmallVec::from_elem(value as f32, n)),
            DType::F64 => Buffer::F64(SmallVec::from_elem(value, n)),
            DType::Bool => Buffer::Bool(SmallVec::from_elem(value != 0.0, n)),
        }
    }

    /// Builds a buffer of `dtype` from `f64` values.
    pub(crate) fn from_f64s(dtype: DType, values: impl ExactSizeIterator<Item = f64>) -> Buffer {
        let n = values.len();
        match dtype {
            DType::F32 => Buffer::F32(collect(n, values.map(|v| v as f32))),
            DType::F64 => Buffer::F64(collect(n, values)),
            DType::Bool => Buffer::Bool(collect(n, values.map(|v| v != 0.0))),
        }
    }
}

/// Element types that can be stored in a [`Buffer`].
pub(crate) trait Element: Copy + Send + Sync + 'static {
    fn slice(buf: &Buffer) -> Option<&[Self]>;
    fn slice_mut(buf: &mut Buffer) -> Option<&mut [Self]>;
}

macro_rules! element {
    ($t:ty, $variant:ident) => {
        impl Element for $t {
            fn slice(buf: &Buffer) -> Option<&[Self]> {
                match buf {
                    Buffer::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn slice_mut(buf: &mut Buffer) -> Option<&mut [Self]> {
                match buf {
                    Buffer::$variant(v) => Some(v),
                    _ => None,
                }
            }
        }
    };
}
element!(f32, F32);
element!(f64, F64);
element!(bool, Bool);

/// Shared, interior-mutable storage (in-place ops such as `zero_` write through the lock), with
/// a version counter bumped by every in-place write.
#[derive(Debug)]
pub(crate) struct Storage {
    buf: RwLock<Buffer>,
    version: AtomicU64,
}

impl Storage {
    pub(crate) fn new(buf: Buffer) -> Storage {
        Storage {
            buf: RwLock::new(buf),
            version: AtomicU64::new(0),
        }
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Buffer> {
        // A panic while a writer held the lock cannot leave a buffer half-typed: the data is
        // still a valid buffer, so poisoning is ignored.
        self.buf.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Buffer> {
        self.version.fetch_add(1, Ordering::Relaxed);
        self.buf.write().unwrap_or_else(|e| e.into_inner())
    }

    #[allow(dead_code)]
    pub(crate) fn version(&self) -> u64 {
        self.version.load(Ordering::Relaxed)
    }
}

/// Typed read access to a buffer's slice, panicking on an internal dtype mismatch.
pub(crate) fn typed<T: Element>(buf: &Buffer) -> &[T] {
    T::slice(buf).expect("internal error: buffer dtype does not match the tensor's dtype")
}

/// Typed write access to a buffer's slice.
pub(crate) fn typed_mut<T: Element>(buf: &mut Buffer) -> &mut [T] {
    T::slice_mut(buf).expect("internal error: buffer dtype does not match the tensor's dtype")
}
