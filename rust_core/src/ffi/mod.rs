//! The C ABI: the shared landing pad ([`call`]), errors, buffers, and one module per handle.
//!
//! The contract every entry point keeps is written where C programmers read it: at the top of
//! `include/barter_ffi.h`, generated from `cbindgen.toml`'s `after_includes`. In short: a status
//! return, an optional `BarterFfiError *` last, out-pointers written only on success, NULL never
//! a crash, panics caught, a `*_free` for everything handed out, no call racing a `*_free`.

pub mod arrow;
pub mod book_replay;
pub mod cursor;
pub mod file_stream;
pub mod host;
pub mod market_data;

// The header promises that handles may be used from several threads: hold the types to it.
const _: () = {
    const fn usable_from_any_thread<T: Send + Sync>() {}
    usable_from_any_thread::<market_data::BarterFfiMarketData>();
    usable_from_any_thread::<cursor::BarterFfiCursor>();
};

use crate::{
    base::{
        error::{BarterFfiStatus, Error},
        guard::guarded,
    },
    output::wire,
};
use std::{
    ffi::{c_char, CString},
    ptr,
    sync::atomic::{AtomicU64, Ordering},
};

/// A failed call's details, written by the library into a caller-provided struct.
#[repr(C)]
pub struct BarterFfiError {
    pub status: BarterFfiStatus,
    /// `errno` for I/O failures, 0 otherwise.
    pub os_errno: i32,
    /// NUL-terminated UTF-8, owned by the library: release with `barter_ffi_error_free`.
    pub message: *mut c_char,
}

/// Bytes owned by the library: read `len` bytes at `data`, then release with
/// `barter_ffi_buffer_free`. Never free `data` yourself.
#[repr(C)]
pub struct BarterFfiBuffer {
    pub data: *mut u8,
    pub len: usize,
    /// Needed to give the allocation back exactly as it was made.
    pub capacity: usize,
}

/// Counts of library objects not yet freed: market data handles, cursors and buffers.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BarterFfiLiveObjects {
    pub market_data: u64,
    /// Cursors, file streams and Arrow streams handed out.
    pub cursors: u64,
    pub buffers: u64,
}

pub(crate) static LIVE_MARKET_DATA: AtomicU64 = AtomicU64::new(0);
pub(crate) static LIVE_CURSORS: AtomicU64 = AtomicU64::new(0);
static LIVE_BUFFERS: AtomicU64 = AtomicU64::new(0);

/// The landing pad every entry point runs its body in: catches panics (through the one guard),
/// reports errors. A body writes caller out-parameters only after its work succeeded, so a
/// panic leaves none half-written.
pub(crate) fn call<F>(error: *mut BarterFfiError, body: F) -> BarterFfiStatus
where
    F: FnOnce() -> Result<(), Error>,
{
    match guarded(body) {
        Ok(()) => BarterFfiStatus::Ok,
        Err(failure) => {
            let status = failure.status;
            // SAFETY: the contract above: `error` is NULL or points to a caller's BarterFfiError.
            if let Some(slot) = unsafe { error.as_mut() } {
                write_error(slot, failure);
            }
            status
        }
    }
}

fn write_error(slot: &mut BarterFfiError, failure: Error) {
    release_message(slot);
    let message = c_message(&failure.message);
    slot.status = failure.status;
    slot.os_errno = failure.os_errno;
    slot.message = message.into_raw();
}

/// `message` as a C string, any NUL byte in it written `\0`.
fn c_message(message: &str) -> CString {
    CString::new(message.replace('\0', "\\0")).unwrap_or_default()
}

fn release_message(slot: &mut BarterFfiError) {
    if !slot.message.is_null() {
        // SAFETY: a non-NULL message was made by `CString::into_raw` in `write_error`.
        drop(unsafe { CString::from_raw(slot.message) });
        slot.message = ptr::null_mut();
    }
}

/// Borrows a required pointer argument, or fails with `NullArgument` naming it.
pub(crate) fn required<'a, T>(pointer: *const T, name: &str) -> Result<&'a T, Error> {
    // SAFETY: callers pass NULL or a pointer from this library / to a live caller value.
    unsafe { pointer.as_ref() }.ok_or_else(|| Error::null_argument(name))
}

/// Writes `value` through a required out-pointer, or fails with `NullArgument` naming it.
pub(crate) fn write_out<T>(out: *mut T, name: &str, value: T) -> Result<(), Error> {
    if out.is_null() {
        return Err(Error::null_argument(name));
    }
    // SAFETY: non-NULL out-pointers point to writable caller storage for a `T`.
    unsafe { out.write(value) };
    Ok(())
}

/// Borrows a required option struct, reading its `struct_size` (its first field) before
/// anything else, so that a struct from an older header than this library knows is refused
/// rather than read past its end.
pub(crate) fn sized<'a, T>(pointer: *const T, name: &str, type_name: &str) -> Result<&'a T, Error> {
    required(pointer, name)?;
    // SAFETY: a non-NULL option struct starts with `struct_size`, by contract.
    let struct_size = unsafe { pointer.cast::<usize>().read_unaligned() };
    if struct_size < std::mem::size_of::<T>() {
        return Err(Error::new(
            BarterFfiStatus::InvalidArgument,
            format!(
                "{name}.struct_size is {struct_size}, not sizeof({type_name}) ({}): set it, or rebuild against this \
                 library's header",
                std::mem::size_of::<T>()
            ),
        ));
    }
    required(pointer, name)
}

/// Checks an out-pointer before the work that would fill it, so no result is made only to leak.
pub(crate) fn check_out<T>(out: *mut T, name: &str) -> Result<(), Error> {
    if out.is_null() {
        Err(Error::null_argument(name))
    } else {
        Ok(())
    }
}

/// Fills a required buffer out-pointer with the bytes `encode` appends, checking the pointer first.
pub(crate) fn write_encoded(
    out: *mut BarterFfiBuffer,
    encode: impl FnOnce(&mut Vec<u8>) -> Result<(), Error>,
) -> Result<(), Error> {
    check_out(out, "out")?;
    let mut bytes = Vec::new();
    encode(&mut bytes)?;
    write_out(out, "out", BarterFfiBuffer::from_vec(bytes))
}

impl BarterFfiBuffer {
    pub(crate) fn from_vec(bytes: Vec<u8>) -> Self {
        let mut bytes = std::mem::ManuallyDrop::new(bytes);
        LIVE_BUFFERS.fetch_add(1, Ordering::Relaxed);
        Self { data: bytes.as_mut_ptr(), len: bytes.len(), capacity: bytes.capacity() }
    }
}

/// The C ABI's version: the header's `BARTER_FFI_ABI_VERSION`, raised whenever a function, a
/// struct layout or a status changes incompatibly. A host compiled against one header checks
/// `barter_ffi_abi_version` against it at start-up, before any other call.
pub const ABI_VERSION: u32 = 1;

/// The C ABI version of the loaded library; compare it with `BARTER_FFI_ABI_VERSION`.
#[no_mangle]
pub extern "C" fn barter_ffi_abi_version(out: *mut u32, error: *mut BarterFfiError) -> BarterFfiStatus {
    call(error, || write_out(out, "out", ABI_VERSION))
}

/// The library's version, as a static NUL-terminated string (never freed).
#[no_mangle]
pub extern "C" fn barter_ffi_version(out: *mut *const c_char, error: *mut BarterFfiError) -> BarterFfiStatus {
    call(error, || {
        let version = concat!(env!("CARGO_PKG_VERSION"), "\0");
        write_out(out, "out", version.as_ptr().cast())
    })
}

/// Every exchange name barter reads (its serde names, as batches carry them), as a MessagePack
/// array of strings. Release the buffer with `barter_ffi_buffer_free`.
#[no_mangle]
pub extern "C" fn barter_ffi_exchange_names(out: *mut BarterFfiBuffer, error: *mut BarterFfiError) -> BarterFfiStatus {
    call(error, || {
        check_out(out, "out")?;
        let mut bytes = Vec::new();
        wire::encode_names(&wire::exchange_names(), &mut bytes)?;
        write_out(out, "out", BarterFfiBuffer::from_vec(bytes))
    })
}

/// How many handles, cursors and buffers are live: a leak check for callers' tests.
#[no_mangle]
pub extern "C" fn barter_ffi_live_objects(
    out: *mut BarterFfiLiveObjects,
    error: *mut BarterFfiError,
) -> BarterFfiStatus {
    call(error, || {
        let live = BarterFfiLiveObjects {
            market_data: LIVE_MARKET_DATA.load(Ordering::Relaxed),
            cursors: LIVE_CURSORS.load(Ordering::Relaxed),
            buffers: LIVE_BUFFERS.load(Ordering::Relaxed),
        };
        write_out(out, "out", live)
    })
}

/// Releases a buffer's bytes and empties it; NULL, or an already empty buffer, is a no-op.
#[no_mangle]
pub extern "C" fn barter_ffi_buffer_free(buffer: *mut BarterFfiBuffer) {
    let _ = call(ptr::null_mut(), || {
        // SAFETY: NULL or a BarterFfiBuffer this library filled.
        let Some(buffer) = (unsafe { buffer.as_mut() }) else { return Ok(()) };
        if !buffer.data.is_null() {
            // SAFETY: data/len/capacity are exactly those of the Vec in `from_vec`.
            drop(unsafe { Vec::from_raw_parts(buffer.data, buffer.len, buffer.capacity) });
            LIVE_BUFFERS.fetch_sub(1, Ordering::Relaxed);
        }
        *buffer = BarterFfiBuffer { data: ptr::null_mut(), len: 0, capacity: 0 };
        Ok(())
    });
}

/// Releases the message of an error and zeroes it; NULL is a no-op.
#[no_mangle]
pub extern "C" fn barter_ffi_error_free(error: *mut BarterFfiError) {
    let _ = call(ptr::null_mut(), || {
        // SAFETY: NULL or a caller's BarterFfiError.
        if let Some(slot) = unsafe { error.as_mut() } {
            release_message(slot);
            slot.status = BarterFfiStatus::Ok;
            slot.os_errno = 0;
        }
        Ok(())
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn message(error: &BarterFfiError) -> String {
        unsafe { CStr::from_ptr(error.message) }.to_string_lossy().into_owned()
    }

    #[test]
    fn a_panic_becomes_an_internal_error_instead_of_aborting() {
        let mut error = BarterFfiError { status: BarterFfiStatus::Ok, os_errno: 0, message: ptr::null_mut() };
        let status = call(&mut error, || panic!("boom {}", 42));
        assert_eq!(status, BarterFfiStatus::Internal);
        assert_eq!(message(&error), "internal error in barter_ffi (caught panic): boom 42");
        barter_ffi_error_free(&mut error);
        assert!(error.message.is_null());
    }

    #[test]
    fn barters_own_constructor_panic_is_caught_too() {
        let mut error = BarterFfiError { status: BarterFfiStatus::Ok, os_errno: 0, message: ptr::null_mut() };
        let status = call(&mut error, || {
            barter::backtest::market_data::MarketDataInMemory::<barter_data::event::DataKind>::new(
                std::sync::Arc::new(Vec::new()),
            );
            Ok(())
        });
        assert_eq!(status, BarterFfiStatus::Internal);
        assert!(message(&error).contains("cannot construct MarketDataInMemory"), "{}", message(&error));
        barter_ffi_error_free(&mut error);
    }

    #[test]
    fn a_reused_error_releases_its_previous_message() {
        let mut error = BarterFfiError { status: BarterFfiStatus::Ok, os_errno: 0, message: ptr::null_mut() };
        call(&mut error, || Err(Error::invalid_data("first")));
        call(&mut error, || Err(Error::invalid_data("second\0with a NUL")));
        assert_eq!(message(&error), "second\\0with a NUL");
        barter_ffi_error_free(&mut error);
        barter_ffi_error_free(&mut error);
        barter_ffi_error_free(ptr::null_mut());
    }
}
