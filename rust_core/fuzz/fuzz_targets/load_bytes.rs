//! Any bytes through the byte-buffer loader and the cursor: an error is fine, a panic is a bug.
#![no_main]

use barter_ffi::{
    error::BarterFfiStatus,
    ffi::{
        barter_ffi_buffer_free, barter_ffi_error_free,
        cursor::{barter_ffi_cursor_free, barter_ffi_cursor_next_batch, barter_ffi_cursor_open},
        market_data::{barter_ffi_market_data_free, barter_ffi_market_data_load_bytes},
        BarterFfiBuffer, BarterFfiError,
    },
};
use libfuzzer_sys::fuzz_target;
use std::ptr;

fuzz_target!(|data: &[u8]| {
    let mut error = BarterFfiError { status: BarterFfiStatus::Ok, os_errno: 0, message: ptr::null_mut() };
    let mut handle = ptr::null_mut();
    let status = barter_ffi_market_data_load_bytes(data.as_ptr(), data.len(), ptr::null(), &mut handle, &mut error);
    assert_ne!(status, BarterFfiStatus::Internal, "a panic was caught while loading");
    barter_ffi_error_free(&mut error);
    if status != BarterFfiStatus::Ok {
        assert!(handle.is_null());
        return;
    }
    let mut cursor = ptr::null_mut();
    assert_eq!(barter_ffi_cursor_open(handle, &mut cursor, ptr::null_mut()), BarterFfiStatus::Ok);
    loop {
        let mut batch = BarterFfiBuffer { data: ptr::null_mut(), len: 0, capacity: 0 };
        assert_eq!(barter_ffi_cursor_next_batch(cursor, 3, &mut batch, ptr::null_mut()), BarterFfiStatus::Ok);
        let end = batch.len == 1;
        barter_ffi_buffer_free(&mut batch);
        if end {
            break;
        }
    }
    barter_ffi_cursor_free(cursor);
    barter_ffi_market_data_free(handle);
});
