//! A small cache of large floating buffers. Freeing a buffer of megabytes returns its pages to
//! the system (glibc maps such blocks separately), and the next one of the same size faults
//! them all in again: a quarter of a 1e7-element elementwise workload went to page faults.
//! Kernels take their outputs from here and storage gives its large buffers back, so a loop
//! over same-shaped tensors reuses memory that is already mapped.
//!
//! At most [`KEEP`] buffers per dtype are kept, each between [`MIN_BYTES`] and [`MAX_BYTES`].

use std::sync::Mutex;

/// Buffers smaller than this are left to the allocator (it reuses them well).
pub(crate) const MIN_BYTES: usize = 1 << 20;
/// Buffers larger than this are not kept (bounds the memory held for reuse).
pub(crate) const MAX_BYTES: usize = 64 << 20;
/// Buffers kept per dtype.
pub(crate) const KEEP: usize = 4;

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
    (MIN_BYTES..=MAX_BYTES).contains(&(capacity * std::mem::size_of::<T>()))
}

/// An empty vector with room for `n` elements: a cached one of about that size if there is
/// one (capacity `n` to `n + n/8`), else a fresh allocation.
pub(crate) fn take<T: Pooled>(n: usize) -> Vec<T> {
    if pooled_size::<T>(n) {
        if let Some(pool) = T::pool() {
            let mut p = pool.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(i) = p
                .iter()
                .position(|v| v.capacity() >= n && v.capacity() <= n + n / 8)
            {
                return p.swap_remove(i);
            }
        }
    }
    Vec::with_capacity(n)
}

/// Keeps a large buffer for reuse (emptied), evicting the oldest kept one when full, so the
/// cache follows the sizes in use now.
pub(crate) fn give<T: Pooled>(mut v: Vec<T>) {
    if pooled_size::<T>(v.capacity()) {
        if let Some(pool) = T::pool() {
            v.clear();
            let evicted = {
                let mut p = pool.lock().unwrap_or_else(|e| e.into_inner());
                let evicted = (p.len() >= KEEP).then(|| p.remove(0));
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
        let v: Vec<f32> = take(n);
        let ptr = v.as_ptr();
        give(v);
        // Another thread's test may take it first; then a fresh one is equally fine.
        let w: Vec<f32> = take(n);
        assert!(w.capacity() >= n && w.is_empty());
        if w.as_ptr() == ptr {
            assert_eq!(w.capacity(), n);
        }
        let small: Vec<f64> = take(10);
        assert_eq!(small.capacity(), 10);
        give(small); // not kept: below MIN_BYTES
        let flags: Vec<bool> = take(MIN_BYTES);
        give(flags); // no cache for bool
    }
}
