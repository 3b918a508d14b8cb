//! The one panic guard: every thread the library starts, every exported C function and every
//! callback it hands to foreign code (Arrow streams, capsule destructors) runs its body through
//! [`guarded`], so that a panic becomes an `Internal` error. Unguarded, a panic on a worker
//! leaves its piece unfinished and its caller waiting forever, and one that unwinds out of an
//! `extern "C"` function aborts the host.

use super::error::Error;
use std::{
    any::Any,
    io,
    panic::{catch_unwind, AssertUnwindSafe},
    thread::{self, JoinHandle, Scope, ScopedJoinHandle},
};

/// `body`'s result, or, when it panicked, an `Internal` error carrying the panic's message.
///
/// `AssertUnwindSafe` is sound for the library's bodies: after a panic nothing a body was
/// changing is read as if whole. A cursor's position moves only after its batch was encoded,
/// a parse's pieces are thrown away, and an Arrow stream that failed keeps failing.
pub fn guarded<T>(body: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| Err(panic_error(payload.as_ref())))
}

/// Starts a thread named `name` that runs `body` [`guarded`]: joining it gives `body`'s result,
/// or its panic as an error.
pub fn spawn<T: Send + 'static>(
    name: &str,
    body: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> io::Result<JoinHandle<Result<T, Error>>> {
    thread::Builder::new().name(name.into()).spawn(move || guarded(body))
}

/// [`spawn`] inside a [`thread::scope`].
pub fn spawn_scoped<'scope, T: Send + 'scope>(
    scope: &'scope Scope<'scope, '_>,
    name: &str,
    body: impl FnOnce() -> Result<T, Error> + Send + 'scope,
) -> io::Result<ScopedJoinHandle<'scope, Result<T, Error>>> {
    thread::Builder::new().name(name.into()).spawn_scoped(scope, move || guarded(body))
}

/// What a thread from [`spawn`] or [`spawn_scoped`] gave when joined. (Its body cannot unwind
/// past the guard; a join that fails anyway is reported as the panic it is.)
pub fn joined<T>(joined: thread::Result<Result<T, Error>>) -> Result<T, Error> {
    joined.unwrap_or_else(|payload| Err(panic_error(payload.as_ref())))
}

fn panic_error(payload: &(dyn Any + Send)) -> Error {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|text| text.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with no message".to_string());
    Error::internal(format!("internal error in barter_ffi (caught panic): {detail}"))
}

/// Input text that makes the library panic where it reads it: in a piece of JSON being parsed
/// (a trade id, say) and in a trade id being exported to Arrow. Only unit tests (`cfg(test)`)
/// have it, to show that each thread and callback turns a panic into an error; every other
/// build reads this text as any other.
#[cfg(test)]
pub const PANIC_HERE: &str = "barter_ffi test: panic here";

/// Panics if `bytes` hold [`PANIC_HERE`] (in unit tests only; elsewhere this does nothing).
#[cfg(test)]
pub fn panic_if_asked(bytes: &[u8]) {
    if memchr::memmem::find(bytes, PANIC_HERE.as_bytes()).is_some() {
        panic!("a test asked for a panic here");
    }
}

#[cfg(not(test))]
#[inline(always)]
pub fn panic_if_asked(_bytes: &[u8]) {}

/// `work`'s result, run on a thread of its own; a test failure if it takes more than a minute
/// (it hangs: the thread is left behind).
#[cfg(test)]
pub fn within_a_minute<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, result) = std::sync::mpsc::channel();
    thread::spawn(move || done.send(work()));
    result.recv_timeout(std::time::Duration::from_secs(60)).expect("hung: no result within a minute")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::error::BarterFfiStatus;

    #[test]
    fn a_panic_on_a_thread_is_its_result_as_an_internal_error() {
        let thread = spawn("barter_ffi-test", || -> Result<(), Error> { panic!("boom {}", 7) }).unwrap();
        let error = joined(thread.join()).unwrap_err();
        assert_eq!(error.status, BarterFfiStatus::Internal);
        assert_eq!(error.message, "internal error in barter_ffi (caught panic): boom 7");
        let scoped = thread::scope(|scope| joined(spawn_scoped(scope, "barter_ffi-test", || Ok(3)).unwrap().join()));
        assert_eq!(scoped, Ok(3));
    }
}
