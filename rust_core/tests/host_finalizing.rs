//! `barter_ffi_host_finalizing`: after it, no progress callback is called. Its own test binary:
//! the word is for good and for the whole process.

mod common;

use barter_ffi::{
    base::error::BarterFfiStatus,
    ffi::{host::barter_ffi_host_finalizing, market_data::*, BarterFfiError},
};
use common::fixture;
use std::{
    ffi::{c_void, CString},
    ptr,
};

fn no_error() -> BarterFfiError {
    BarterFfiError { status: BarterFfiStatus::Ok, os_errno: 0, message: ptr::null_mut() }
}

/// Counts its calls in `context` (a `u32`); the first says the host is finalizing, from inside
/// the callback, which must not wait for itself.
unsafe extern "C" fn finalize_on_first_call(context: *mut c_void, _done: u64, _total: u64) -> i32 {
    let calls = &mut *context.cast::<u32>();
    *calls += 1;
    if *calls == 1 {
        assert_eq!(barter_ffi_host_finalizing(ptr::null_mut()), BarterFfiStatus::Ok);
    }
    0
}

/// Loads `trades.json` with `progress`, giving the status and the calls `progress` counted.
fn load_with(progress: BarterFfiProgressCallback) -> (BarterFfiStatus, u32) {
    let path = CString::new(fixture("trades.json").to_str().unwrap()).unwrap();
    let (mut calls, mut handle, mut error) = (0u32, ptr::null_mut(), no_error());
    let status = barter_ffi_market_data_load_file_with_progress(
        path.as_ptr(),
        progress,
        (&mut calls as *mut u32).cast(),
        &mut handle,
        &mut error,
    );
    barter_ffi_market_data_free(handle);
    barter_ffi::ffi::barter_ffi_error_free(&mut error);
    (status, calls)
}

#[test]
fn after_the_host_says_it_is_finalizing_no_callback_is_called_and_loads_with_one_cancel() {
    // Said from inside a callback: the load it was in makes no later report (this small file
    // is done by then, so it may succeed; a larger one is cancelled at its next report).
    let (status, calls) = load_with(Some(finalize_on_first_call));
    assert_eq!(calls, 1, "{status:?}");
    assert_eq!(load_with(Some(finalize_on_first_call)), (BarterFfiStatus::Cancelled, 0), "never called again");
    assert_eq!(load_with(None), (BarterFfiStatus::Ok, 0), "a load without a callback works on");
    assert_eq!(barter_ffi_host_finalizing(ptr::null_mut()), BarterFfiStatus::Ok, "saying it again is harmless");
}
