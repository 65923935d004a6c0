//! The command line's heap: freed memory stays in the process for the next step.
//!
//! Every training step and scoring batch allocates and frees the same large buffers
//! (activations, column matrices, gradients, several MB each). With glibc's defaults,
//! freeing them shrinks the heap or unmaps them, and the next step gets them back as
//! fresh pages the kernel must zero and fault in: 6% of a scoring pass went to page
//! faults and `clear_page`. Keeping them makes scoring 11-20% faster and training about
//! 5% (alternating runs in DEVELOPERS.md, "Where the time goes"). This is a choice of
//! the binary; the library crates leave the allocator to whoever links them.

/// Tunes glibc's allocator to keep freed memory: no trimming of the heap top, a larger
/// pad when it grows, and `mmap` only for blocks above glibc's largest threshold
/// (32 MiB). Elsewhere (another C library, another system) it does nothing.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const MMAP_THRESHOLD: libc::c_int = 32 << 20;
        const TOP_PAD: libc::c_int = 256 << 20;
        // SAFETY: `mallopt` only sets glibc's tuning parameters; it is called first
        // thing in `main`, before any other thread exists. A value glibc refuses leaves
        // its default in place, which is safe too.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, libc::c_int::MAX);
            libc::mallopt(libc::M_TOP_PAD, TOP_PAD);
        }
    }
}
