//! A small cache of large floating buffers. Freeing a buffer of megabytes returns its pages to
//! the system (glibc maps such blocks separately), and the next one of the same size faults
//! them all in again: a quarter of a 1e7-element elementwise workload went to page faults.
//! Kernels take their outputs from here and storage gives its large buffers back, so a loop
//! over same-shaped tensors reuses memory that is already mapped.
//!
//! Each floating dtype keeps buffers of [`MIN_BYTES`] to [`MAX_BYTES`], at most [`KEEP`] of
//! them and [`BUDGET`] bytes in all, evicting the oldest. [`empty_cache`] frees them.

use std::sync::Mutex;

/// Buffers smaller than this are left to the allocator (it reuses them well).
pub(crate) const MIN_BYTES: usize = 1 << 20;
/// Buffers larger than this are not kept (bounds the memory held for reuse).
pub(crate) const MAX_BYTES: usize = 64 << 20;
/// Buffers kept per dtype: enough for the live intermediates of a create_graph chain on
/// megabyte tensors (W5 keeps about two dozen).
pub(crate) const KEEP: usize = 32;
/// Bytes kept per dtype, at most.
pub(crate) const BUDGET: usize = 256 << 20;

/// Frees the large buffers ferrograd keeps for reuse (like `torch.cuda.empty_cache` for the
/// CPU).
///
/// Kernels write their outputs into buffers of 1 to 64 MB that earlier, dropped tensors gave
/// back, so loops over large same-shaped tensors do not fault fresh pages in on every op. Up to
/// 32 such buffers and 256 MB are kept per floating dtype after the tensors that used them are
/// gone; call this to return that memory to the system.
///
/// ```
/// use ferrograd::Tensor;
/// let big = Tensor::zeros(&[1 << 20]); // 4 MB
/// drop(big.exp());
/// ferrograd::empty_cache();
/// ```
pub fn empty_cache() {
    fn clear<T: Pooled>() {
        if let Some(pool) = T::pool() {
            drop(std::mem::take(&mut *lock(pool)));
        }
    }
    clear::<f32>();
    clear::<f64>();
}

/// A cache's lock (a panic elsewhere cannot leave the list of buffers inconsistent, so
/// poisoning is ignored).
fn lock<T>(pool: &'static Mutex<Vec<Vec<T>>>) -> std::sync::MutexGuard<'static, Vec<Vec<T>>> {
    pool.lock().unwrap_or_else(|e| e.into_inner())
}

/// Element types with a cache (the floating ones; others always allocate).
pub(crate) trait Pooled: Sized + Send + 'static {
    /// This type's cache, if it has one.
    fn pool() -> Option<&'static Mutex<Vec<Vec<Self>>>> {
        None
    }
}

impl Pooled for f32 {
    fn pool() -> Option<&'static Mutex<Vec<Vec<f32>>>> {
        static POOL: Mutex<Vec<Vec<f32>>> = Mutex::new(Vec::new());
        Some(&POOL)
    }
}

impl Pooled for f64 {
    fn pool() -> Option<&'static Mutex<Vec<Vec<f64>>>> {
        static POOL: Mutex<Vec<Vec<f64>>> = Mutex::new(Vec::new());
        Some(&POOL)
    }
}

impl Pooled for bool {}
impl Pooled for i64 {}

fn pooled_size<T>(capacity: usize) -> bool {
    capacity
        .checked_mul(std::mem::size_of::<T>())
        .is_some_and(|b| (MIN_BYTES..=MAX_BYTES).contains(&b))
}

/// The error for an allocation of `n` elements of `T` that failed.
pub(crate) fn alloc_error<T>(n: usize) -> crate::Error {
    let bytes = (n as u128) * std::mem::size_of::<T>() as u128;
    crate::Error::invalid(
        "alloc",
        format!("DefaultCPUAllocator: not enough memory: you tried to allocate {bytes} bytes."),
    )
}

/// A fresh vector with room for exactly `n` elements, or an error (never an abort) when the
/// allocation cannot succeed.
pub(crate) fn try_alloc<T>(n: usize) -> crate::Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| alloc_error::<T>(n))?;
    Ok(v)
}

/// An empty vector with room for `n` elements: a cached one of about that size if there is
/// one (capacity `n` to `n + n/8`), else a fresh allocation; an allocation that cannot
/// succeed is an error (PyTorch's message), never an abort.
pub(crate) fn try_take<T: Pooled>(n: usize) -> crate::Result<Vec<T>> {
    if pooled_size::<T>(n) {
        if let Some(pool) = T::pool() {
            let mut p = lock(pool);
            if let Some(i) = p
                .iter()
                .position(|v| v.capacity() >= n && v.capacity() <= n + n / 8)
            {
                return Ok(p.swap_remove(i));
            }
        }
    }
    try_alloc(n)
}

/// Keeps a large buffer for reuse (emptied), evicting the oldest kept one when full, so the
/// cache follows the sizes in use now.
pub(crate) fn give<T: Pooled>(mut v: Vec<T>) {
    if pooled_size::<T>(v.capacity()) {
        if let Some(pool) = T::pool() {
            v.clear();
            let size = |b: &Vec<T>| b.capacity() * std::mem::size_of::<T>();
            let evicted: Vec<Vec<T>> = {
                let mut p = lock(pool);
                // Bytes held after the push, less each evicted buffer (oldest first).
                let mut held = p.iter().map(size).sum::<usize>() + size(&v);
                let mut k = 0;
                while k < p.len() && (p.len() - k >= KEEP || held > BUDGET) {
                    held -= size(&p[k]);
                    k += 1;
                }
                let evicted = p.drain(..k).collect();
                p.push(v);
                evicted
            };
            drop(evicted); // freed outside the lock
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_buffers_come_back_and_small_ones_do_not() {
        let n = MIN_BYTES / 4 + 1000;
        let v: Vec<f32> = try_take(n).unwrap();
        let ptr = v.as_ptr();
        give(v);
        // Another thread's test may take it first; then a fresh one is equally fine.
        let w: Vec<f32> = try_take(n).unwrap();
        assert!(w.capacity() >= n && w.is_empty());
        if w.as_ptr() == ptr {
            assert_eq!(w.capacity(), n);
        }
        let small: Vec<f64> = try_take(10).unwrap();
        assert_eq!(small.capacity(), 10);
        give(small); // not kept: below MIN_BYTES
        let flags: Vec<bool> = try_take(MIN_BYTES).unwrap();
        give(flags); // no cache for bool
    }

    #[test]
    fn the_cache_stays_within_its_count_and_byte_budget() {
        let held = || {
            let p = lock(f64::pool().unwrap());
            let bytes = p.iter().map(|b| b.capacity() * 8).sum::<usize>();
            (p.len(), bytes)
        };
        // More buffers than KEEP: the oldest are evicted.
        for _ in 0..KEEP + 8 {
            give(Vec::<f64>::with_capacity(MIN_BYTES / 8));
        }
        let (count, bytes) = held();
        assert!(
            count <= KEEP && bytes <= BUDGET,
            "{count} buffers, {bytes} bytes"
        );
        // Fewer, larger buffers than BUDGET allows: evicted by bytes.
        for _ in 0..BUDGET / MAX_BYTES + 2 {
            give(Vec::<f64>::with_capacity(MAX_BYTES / 8));
        }
        let (count, bytes) = held();
        assert!(
            count <= KEEP && bytes <= BUDGET,
            "{count} buffers, {bytes} bytes"
        );
        assert!(count >= 1, "the latest buffer is kept");
        empty_cache();
        // Other tests may give buffers back concurrently; the budget holds regardless.
        let (count, bytes) = held();
        assert!(count <= KEEP && bytes <= BUDGET);
    }
}
