//! Flat, typed element buffers shared between tensors and views.
//!
//! Storage knows nothing about shapes or graphs: [`crate::layout::Layout`] says how a tensor reads
//! a buffer, and autograd lives in [`crate::autograd`].

use crate::dtype::DType;
use smallvec::SmallVec;
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// How many elements live inline in the storage allocation itself.
pub(crate) const INLINE: usize = 4;

/// Element storage: up to [`INLINE`] elements inline (no heap allocation for scalars and tiny
/// tensors), a heap vector otherwise.
pub(crate) type Data<T> = SmallVec<[T; INLINE]>;

/// Collects `n` items into [`Data`]: inline when small; otherwise through `Vec`'s collect
/// (which vectorizes) and moved, not copied, into the `SmallVec`. Panics (never aborts) if the
/// allocation cannot succeed; see [`try_collect`].
pub(crate) fn collect<T: crate::pool::Pooled, I: Iterator<Item = T>>(n: usize, it: I) -> Data<T> {
    crate::unwrap(try_collect(n, it))
}

/// Fallible [`collect`]: an allocation that cannot succeed is an error.
pub(crate) fn try_collect<T: crate::pool::Pooled, I: Iterator<Item = T>>(
    n: usize,
    it: I,
) -> crate::Result<Data<T>> {
    if n <= INLINE {
        Ok(it.collect())
    } else {
        let mut v = crate::pool::try_take(n)?;
        v.extend(it);
        Ok(Data::from_vec(v))
    }
}

/// A contiguous buffer of one dtype.
#[derive(Clone, Debug)]
pub(crate) enum Buffer {
    F32(Data<f32>),
    F64(Data<f64>),
    Bool(Data<bool>),
    I64(Data<i64>),
}

/// Runs `$body` with `$v` bound to the buffer's elements, whatever their type.
macro_rules! each_buffer {
    ($buf:expr, $v:ident => $body:expr) => {
        match $buf {
            $crate::storage::Buffer::F32($v) => $body,
            $crate::storage::Buffer::F64($v) => $body,
            $crate::storage::Buffer::Bool($v) => $body,
            $crate::storage::Buffer::I64($v) => $body,
        }
    };
}
pub(crate) use each_buffer;

/// Like [`each_buffer`], wrapping the result back into a buffer of the same dtype.
macro_rules! map_buffer {
    ($buf:expr, $v:ident => $body:expr) => {
        match $buf {
            $crate::storage::Buffer::F32($v) => $crate::storage::Buffer::F32($body),
            $crate::storage::Buffer::F64($v) => $crate::storage::Buffer::F64($body),
            $crate::storage::Buffer::Bool($v) => $crate::storage::Buffer::Bool($body),
            $crate::storage::Buffer::I64($v) => $crate::storage::Buffer::I64($body),
        }
    };
}
pub(crate) use map_buffer;

/// Element conversions through `f64` (exact for f32, bool and integers below 2^53; float to
/// integer truncates toward zero, as PyTorch's casts do).
pub(crate) trait Scalar: Copy + Send + Sync + crate::pool::Pooled + 'static {
    fn to_f64(self) -> f64;
    fn from_f64(v: f64) -> Self;
}

impl Scalar for f32 {
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}
impl Scalar for f64 {
    fn to_f64(self) -> f64 {
        self
    }
    fn from_f64(v: f64) -> Self {
        v
    }
}
impl Scalar for bool {
    fn to_f64(self) -> f64 {
        self as u8 as f64
    }
    fn from_f64(v: f64) -> Self {
        v != 0.0
    }
}
impl Scalar for i64 {
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn from_f64(v: f64) -> Self {
        v as i64
    }
}

impl Buffer {
    pub(crate) fn dtype(&self) -> DType {
        match self {
            Buffer::F32(_) => DType::F32,
            Buffer::F64(_) => DType::F64,
            Buffer::Bool(_) => DType::Bool,
            Buffer::I64(_) => DType::I64,
        }
    }

    pub(crate) fn len(&self) -> usize {
        each_buffer!(self, v => v.len())
    }

    /// Element `i` widened to `f64` (bools as 0/1).
    pub(crate) fn get_f64(&self, i: usize) -> f64 {
        each_buffer!(self, v => v[i].to_f64())
    }

    /// A buffer of `n` copies of `value` converted to `dtype`; an allocation that cannot
    /// succeed is an error.
    pub(crate) fn try_filled(dtype: DType, n: usize, value: f64) -> crate::Result<Buffer> {
        Buffer::try_from_f64s(dtype, std::iter::repeat_n(value, n))
    }

    /// Builds a buffer of `dtype` from `f64` values.
    pub(crate) fn from_f64s(dtype: DType, values: impl ExactSizeIterator<Item = f64>) -> Buffer {
        crate::unwrap(Buffer::try_from_f64s(dtype, values))
    }

    /// Fallible [`Buffer::from_f64s`]: an allocation that cannot succeed is an error.
    pub(crate) fn try_from_f64s(
        dtype: DType,
        values: impl ExactSizeIterator<Item = f64>,
    ) -> crate::Result<Buffer> {
        let n = values.len();
        Ok(match dtype {
            DType::F32 => Buffer::F32(try_collect(n, values.map(f32::from_f64))?),
            DType::F64 => Buffer::F64(try_collect(n, values)?),
            DType::Bool => Buffer::Bool(try_collect(n, values.map(bool::from_f64))?),
            DType::I64 => Buffer::I64(try_collect(n, values.map(i64::from_f64))?),
        })
    }
}

/// Element types that can be stored in a [`Buffer`].
pub(crate) trait Element: Scalar {
    fn slice(buf: &Buffer) -> Option<&[Self]>;
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
        }
    };
}
element!(f32, F32);
element!(f64, F64);
element!(bool, Bool);
element!(i64, I64);

/// Shared, interior-mutable storage (in-place ops such as `zero_` write through the lock), with
/// a version counter bumped by every in-place write.
///
/// A storage can be *pending*: made by a deferred elementwise op ([`crate::lazy`]), it holds
/// the expression of its elements, and the first access to its buffer computes them.
pub(crate) struct Storage {
    buf: RwLock<Buffer>,
    version: AtomicU64,
    /// Whether `lazy` holds an expression not yet computed into `buf`.
    pending: AtomicBool,
    lazy: Mutex<Option<Arc<crate::lazy::Expr>>>,
    /// How many pending expressions read this storage (their leaves hold handles on it).
    lazy_refs: AtomicUsize,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage")
            .field("buf", &*self.read())
            .field("version", &self.version())
            .finish()
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        let buf = self.buf.get_mut().unwrap_or_else(|e| e.into_inner());
        give_back(buf);
    }
}

/// Empties a buffer; a large floating one goes back to the cache for the next output of its
/// size.
fn give_back(buf: &mut Buffer) {
    match std::mem::replace(buf, Buffer::Bool(SmallVec::new())) {
        Buffer::F32(d) if d.spilled() => crate::pool::give(d.into_vec()),
        Buffer::F64(d) if d.spilled() => crate::pool::give(d.into_vec()),
        _ => {}
    }
}

/// How many spare storage allocations a thread keeps (see [`Storage::shared`]).
const SPARES: usize = 64;

/// A thread's spare storage allocations.
struct Spares {
    free: Vec<Arc<Storage>>,
}

thread_local! {
    static SPARES_OF_THREAD: RefCell<Spares> = RefCell::new(Spares {
        free: Vec::with_capacity(SPARES),
    });
}

impl Storage {
    pub(crate) fn new(buf: Buffer) -> Storage {
        Storage {
            buf: RwLock::new(buf),
            version: AtomicU64::new(0),
            pending: AtomicBool::new(false),
            lazy: Mutex::new(None),
            lazy_refs: AtomicUsize::new(0),
        }
    }

    /// A storage whose elements are `expr`, computed when first read.
    pub(crate) fn pending(expr: Arc<crate::lazy::Expr>) -> Storage {
        let mut st = Storage::new(Buffer::Bool(SmallVec::new()));
        *st.lazy.get_mut().unwrap_or_else(|e| e.into_inner()) = Some(expr);
        *st.pending.get_mut() = true;
        st
    }

    /// Whether the elements are still to be computed.
    pub(crate) fn is_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// The expression of a pending storage (`None` once computed).
    pub(crate) fn pending_expr(&self) -> Option<Arc<crate::lazy::Expr>> {
        if !self.is_pending() {
            return None;
        }
        self.lazy_lock().clone()
    }

    /// The lock on the pending expression (held while it is computed).
    pub(crate) fn lazy_lock(&self) -> MutexGuard<'_, Option<Arc<crate::lazy::Expr>>> {
        self.lazy.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// [`Storage::lazy_lock`] when nobody holds it.
    pub(crate) fn try_lazy_lock(&self) -> Option<MutexGuard<'_, Option<Arc<crate::lazy::Expr>>>> {
        match self.lazy.try_lock() {
            Ok(g) => Some(g),
            Err(std::sync::TryLockError::Poisoned(e)) => Some(e.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    /// Stores the computed elements of a pending storage (the caller holds its expression
    /// lock, and takes the expression out after), and returns its version then: an in-place
    /// write bumps the version only after this (it computes a pending storage first, so it
    /// either waits on that lock or sees the storage no longer pending).
    pub(crate) fn set_computed(&self, buf: Buffer) -> u64 {
        let mut slot = self.buf.write().unwrap_or_else(|e| e.into_inner());
        let version = self.version();
        *slot = buf;
        self.pending.store(false, Ordering::Release);
        version
    }

    /// Counts a pending expression's leaf on this storage in (`1`) or out (`-1`).
    pub(crate) fn lazy_ref(&self, delta: isize) {
        if delta > 0 {
            self.lazy_refs.fetch_add(1, Ordering::AcqRel);
        } else {
            self.lazy_refs.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// How many handles on `st` are tensors' (not pending expressions' leaves).
    pub(crate) fn tensor_handles(st: &Arc<Storage>) -> usize {
        Arc::strong_count(st).saturating_sub(st.lazy_refs.load(Ordering::Acquire))
    }

    /// Computes the elements of a pending storage before any access to its buffer, and
    /// computes the pending expressions that read this storage before it is written.
    fn settle(&self, writing: bool) {
        if self.pending.load(Ordering::Acquire) {
            crate::lazy::evaluate(self);
        }
        if writing && self.lazy_refs.load(Ordering::Acquire) > 0 {
            crate::lazy::flush();
        }
    }

    /// A new shared storage holding `buf`. A tensor's storage is its own heap block, and
    /// scalar graphs make and drop one per operation: a spare block left by a dropped tensor
    /// ([`Storage::recycle`]) is reused when there is one, instead of a `malloc`/`free` pair.
    pub(crate) fn shared(buf: Buffer) -> Arc<Storage> {
        let spare = SPARES_OF_THREAD
            .try_with(|s| s.try_borrow_mut().ok().and_then(|mut s| s.free.pop()))
            .ok()
            .flatten();
        match spare {
            Some(mut a) => {
                let st =
                    crate::unique::unique_mut(&mut a).expect("a spare storage has no other handle");
                *st.buf.get_mut().unwrap_or_else(|e| e.into_inner()) = buf;
                *st.version.get_mut() = 0;
                a
            }
            None => Arc::new(Storage::new(buf)),
        }
    }

    /// Keeps `st` as a spare for [`Storage::shared`] if this is its last handle (its buffer is
    /// emptied; no one can see the block any more); drops it otherwise.
    pub(crate) fn recycle(mut st: Arc<Storage>) {
        let _ = SPARES_OF_THREAD.try_with(move |s| {
            let Ok(mut s) = s.try_borrow_mut() else {
                return;
            };
            if s.free.len() < SPARES {
                let Some(inner) = crate::unique::unique_mut(&mut st) else {
                    return;
                };
                // (A pending storage always has a weak handle, its expression's, so it never
                // gets here; checked anyway, as reuse keeps only the buffer and version.)
                if *inner.pending.get_mut() {
                    return;
                }
                let Ok(buf) = inner.buf.get_mut() else { return };
                give_back(buf);
                s.free.push(st);
            }
        });
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Buffer> {
        self.settle(false);
        // A panic while a writer held the lock cannot leave a buffer half-typed: the data is
        // still a valid buffer, so poisoning is ignored.
        self.buf.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Buffer> {
        self.settle(true);
        self.version.fetch_add(1, Ordering::Relaxed);
        self.buf.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Write access for filling a tensor that nobody has seen yet (no version bump: building
    /// an output is not an in-place modification).
    pub(crate) fn write_untracked(&self) -> RwLockWriteGuard<'_, Buffer> {
        self.settle(true);
        self.buf.write().unwrap_or_else(|e| e.into_inner())
    }

    /// How many in-place writes this storage has had (PyTorch's version counter, shared by
    /// all views of the storage).
    pub(crate) fn version(&self) -> u64 {
        self.version.load(Ordering::Relaxed)
    }
}

/// Typed read access to a buffer's slice, panicking on an internal dtype mismatch.
pub(crate) fn typed<T: Element>(buf: &Buffer) -> &[T] {
    T::slice(buf).expect("internal error: buffer dtype does not match the tensor's dtype")
}

/// Bytes per element of `dtype` in a [`Buffer`].
pub(crate) fn elem_size(dtype: DType) -> usize {
    match dtype {
        DType::F32 => 4,
        DType::F64 | DType::I64 => 8,
        DType::Bool => 1,
    }
}
