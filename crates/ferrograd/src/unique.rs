//! Exclusive access to the contents of an `Arc` without `Arc::get_mut`'s locked
//! compare-exchange.
//!
//! A scalar graph makes and drops a tensor, a storage and a node per operation, and each is
//! written through its `Arc` while it has one handle: building it, linking its node, recycling
//! its storage. `Arc::get_mut` proves uniqueness by locking the weak count with a
//! compare-exchange, a locked instruction (about 20 cycles, and a barrier to the loads after
//! it) on every one of those writes; the two checks here use plain loads.
//!
//! Checked under Miri (stacked and tree borrows, its data-race detector, eight schedules):
//! fresh writes, weak handles, unsized values, and a handle dropped on another thread right
//! before the write all pass; without the acquire fences Miri reports the data race.

use std::sync::atomic::{fence, Ordering};
use std::sync::Arc;

/// `Arc::get_mut`, with plain loads: `Some` exactly when `a` is the only handle (strong or weak)
/// on its value.
///
/// Sound without a lock: with one strong handle (ours, borrowed mutably here) no other thread
/// can clone or downgrade it, and with no weak handle none can upgrade one, so neither count
/// can change until this borrow ends. The strong count is read first: a handle dropped on
/// another thread decremented it with release ordering, and the acquire fence after the load
/// makes everything that thread did (including any `downgrade` before its drop) visible before
/// the weak count is read and the value is written. A stale read only ever sees more handles
/// than there are, and then gives `None`, as `get_mut` does under contention.
#[inline]
pub(crate) fn unique_mut<T: ?Sized>(a: &mut Arc<T>) -> Option<&mut T> {
    if Arc::strong_count(a) != 1 {
        return None;
    }
    fence(Ordering::Acquire);
    if Arc::weak_count(a) != 0 {
        return None;
    }
    fence(Ordering::Acquire);
    // SAFETY: `a` is the only handle on the value (see above), and it is borrowed mutably for
    // the lifetime of the result, so no other reference to the value exists or can be made
    // while the result lives. `Arc::as_ptr` derives the pointer from the allocation without
    // going through a shared reference (the standard library keeps its provenance mutable for
    // exactly this use), so writing through it is allowed.
    Some(unsafe { &mut *Arc::as_ptr(a).cast_mut() })
}

/// Mutable access to the value of an `Arc` created by the caller and not yet cloned,
/// downgraded or shared (a fresh `Arc::new_uninit`): `unique_mut` without even the loads.
///
/// # Safety
/// `a` must be the only handle that was ever made on its allocation.
#[inline]
pub(crate) unsafe fn fresh_mut<T: ?Sized>(a: &mut Arc<T>) -> &mut T {
    debug_assert!(Arc::strong_count(a) == 1 && Arc::weak_count(a) == 0);
    // SAFETY: the caller guarantees no other handle exists, so no other reference to the value
    // exists; the pointer keeps the allocation's mutable provenance (see `unique_mut`).
    unsafe { &mut *Arc::as_ptr(a).cast_mut() }
}
