//! Output buffers written once, without zeroing them first.
//!
//! A kernel that writes every element of its output does not need the output zeroed;
//! on a 2-core machine the `memset` of a fresh zeroed buffer was a measurable share of
//! a training step, and much of it ran while the other core waited. Writes go through
//! `MaybeUninit`, so no `&mut [T]` ever points at uninitialised memory.

use std::mem::MaybeUninit;

/// A slice of values seen as memory to write into. Only initialised values are ever
/// written through the view (by `gemm` and by `MaybeUninit::write`), so the slice
/// stays initialised.
pub(crate) fn as_uninit<T: Copy>(values: &mut [T]) -> &mut [MaybeUninit<T>] {
    // SAFETY: `MaybeUninit<T>` has `T`'s layout, and the kernels write only
    // initialised values through the view (see above).
    unsafe { &mut *(values as *mut [T] as *mut [MaybeUninit<T>]) }
}

/// The values of a buffer every element of which has been written.
///
/// # Safety
///
/// Every element of `values` must be initialised.
pub(crate) unsafe fn assume_init<T: Copy>(values: &mut [MaybeUninit<T>]) -> &mut [T] {
    // SAFETY: the caller guarantees initialisation; the layouts are the same.
    unsafe { &mut *(values as *mut [MaybeUninit<T>] as *mut [T]) }
}

/// A vector of `len` values filled by `write`, which must initialise every element
/// (each caller's kernel writes its whole output).
pub(crate) fn written_vec<T: Copy>(
    len: usize,
    write: impl FnOnce(&mut [MaybeUninit<T>]),
) -> Vec<T> {
    let mut buffer: Vec<MaybeUninit<T>> = Vec::with_capacity(len);
    buffer.resize_with(len, MaybeUninit::uninit);
    write(&mut buffer);
    let mut buffer = std::mem::ManuallyDrop::new(buffer);
    let (ptr, len, capacity) = (buffer.as_mut_ptr(), buffer.len(), buffer.capacity());
    // SAFETY: `write` initialised every element (the contract above); the allocation
    // is the vector's own, and `MaybeUninit<T>` has `T`'s layout.
    unsafe { Vec::from_raw_parts(ptr.cast::<T>(), len, capacity) }
}
