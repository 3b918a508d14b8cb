//! Calls into the host (its progress callbacks), and the host's word that it is shutting down.
//!
//! A finalizing CPython (3.9 to 3.13) ends any other thread that asks for its lock with
//! `pthread_exit`. A thread inside a load whose progress callback enters Python then unwinds
//! through the library's frames, and the process aborts ("FATAL: exception not rethrown"). So
//! the host says when it starts to shut down ([`barter_ffi_host_finalizing`], from Python's
//! `atexit`, before the interpreter finalizes), and from then on the library calls none of its
//! callbacks: a load whose progress callback is due is cancelled instead.

use super::{call, BarterFfiError};
use crate::base::error::BarterFfiStatus;
use std::{
    cell::Cell,
    sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst},
    time::Duration,
};

static FINALIZING: AtomicBool = AtomicBool::new(false);
/// Callers inside [`call_into_host`], on every thread (counted before they check `FINALIZING`,
/// so that `barter_ffi_host_finalizing` sees every call that may still enter the host).
static CALLS_IN_HOST: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's share of `CALLS_IN_HOST`: a callback that calls `barter_ffi_host_finalizing`
    /// does not wait for itself.
    static OWN_CALLS_IN_HOST: Cell<usize> = const { Cell::new(0) };
}

/// `enter_host()`'s result, or `None`, without entering the host, once the host is finalizing.
pub(crate) fn call_into_host<T>(enter_host: impl FnOnce() -> T) -> Option<T> {
    let _counted = CountedCall::start();
    if FINALIZING.load(SeqCst) {
        return None;
    }
    Some(enter_host())
}

/// One call counted in `CALLS_IN_HOST` until dropped (also when the call unwinds).
struct CountedCall;

impl CountedCall {
    fn start() -> Self {
        CALLS_IN_HOST.fetch_add(1, SeqCst);
        OWN_CALLS_IN_HOST.with(|own| own.set(own.get() + 1));
        Self
    }
}

impl Drop for CountedCall {
    fn drop(&mut self) {
        OWN_CALLS_IN_HOST.with(|own| own.set(own.get() - 1));
        CALLS_IN_HOST.fetch_sub(1, SeqCst);
    }
}

/// Tells the library that the host is shutting down, for good and for the whole process: from
/// now on it calls no callback into the host. A load running on another thread is cancelled at
/// its next progress report (`BARTER_FFI_STATUS_CANCELLED`), and a load started later with a
/// progress callback fails so at once. Loads without a callback, cursors, streams and Arrow
/// streams work on, since they never call the host.
///
/// Returns once no callback is running any more (other than the one this thread may be in): a
/// callback that another thread is in the middle of finishes first, so call this where that
/// thread can finish it (Python: with the GIL released, as cffi calls do). Python's `barter_ffi`
/// calls it from `atexit`, before the interpreter ends the threads that would enter it. A C host
/// whose callbacks call into a runtime that stops threads at exit (an embedded interpreter, a
/// VM) calls it before shutting that runtime down; other hosts need not call it.
#[no_mangle]
pub extern "C" fn barter_ffi_host_finalizing(error: *mut BarterFfiError) -> BarterFfiStatus {
    call(error, || {
        FINALIZING.store(true, SeqCst);
        let own = OWN_CALLS_IN_HOST.with(Cell::get);
        while CALLS_IN_HOST.load(SeqCst) > own {
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    })
}
