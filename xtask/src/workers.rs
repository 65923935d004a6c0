//! The command runs on one of rayon's worker threads, not beside them.
//!
//! Every convolution and batch norm of a step splits its batch over rayon's threads.
//! Called from the main thread, each such call hands its work to a sleeping worker,
//! waits for a second one to wake up and steal half of it, and is itself woken when
//! both are done: three wake-ups per call, a few hundred calls per training step. On
//! the 2-core development machine (a virtual machine, where waking a halted core is
//! slow) `perf record -a` showed one core idle while the other ran a convolution's
//! products alone. Run from a worker, a call starts on its own thread at once and
//! waits for one wake-up only (DEVELOPERS.md, "Where the time goes", has the profile).
//! Like the heap's tuning (`heap.rs`), this is the binary's choice; the library
//! crates use whatever pool they are called from.

/// `job`'s result, computed on a worker of a new rayon pool of the default size
/// (`RAYON_NUM_THREADS`, else one thread per core), so that the parallel kernels it
/// calls start on its own thread. Where the pool cannot be built, `job` runs here.
pub fn run_on_worker<R: Send>(job: impl FnOnce() -> R + Send) -> R {
    match rayon::ThreadPoolBuilder::new().build() {
        Ok(pool) => pool.install(job),
        Err(error) => {
            eprintln!("warning: no rayon thread pool ({error}); running on the main thread");
            job()
        }
    }
}
