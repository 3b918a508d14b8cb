//! The buffer a whole file is read into: grown only where the memory is there, and backed by
//! 2 MiB pages where the kernel offers them on request.
//!
//! A load copies the whole file into a fresh buffer, so the kernel's work of handing out and
//! zeroing its pages, one fault per 4 KiB, was a third of reading a file already in the page
//! cache. Linux's transparent huge pages serve 2 MiB per fault, and its default setting
//! (`madvise`) gives them only to memory that asks. Asking is a hint: where it is refused
//! (another OS, an older kernel, THP disabled), the pages are ordinary ones and nothing else
//! changes. The event vectors do not ask: they live as long as the data set, and on this
//! machine the first load in a process paid more for their huge pages than later loads saved.

use crate::base::error::Error;

/// Grows `buffer` by `additional` bytes, or says the input does not fit in memory.
pub(crate) fn reserve(buffer: &mut Vec<u8>, additional: usize, source: &str) -> Result<(), Error> {
    buffer.try_reserve(additional).map_err(|_| out_of_memory(buffer, additional, source))
}

/// [`reserve`], without the room for later growth it may add (up to twice the length).
pub(crate) fn reserve_exact(buffer: &mut Vec<u8>, additional: usize, source: &str) -> Result<(), Error> {
    buffer.try_reserve_exact(additional).map_err(|_| out_of_memory(buffer, additional, source))
}

fn out_of_memory(buffer: &[u8], additional: usize, source: &str) -> Error {
    Error::out_of_memory(format!("'{source}' ({} bytes read, {additional} more wanted)", buffer.len()))
}

/// Asks the kernel to back the whole 2 MiB pages of `buffer`'s allocation with huge pages.
pub fn prefer_huge_pages<T>(buffer: &mut Vec<T>) {
    #[cfg(target_os = "linux")]
    {
        const HUGE_PAGE: usize = 2 << 20;
        let start = buffer.as_mut_ptr() as usize;
        let end = start.saturating_add(buffer.capacity().saturating_mul(std::mem::size_of::<T>()));
        let (first, last) = (start.next_multiple_of(HUGE_PAGE), end / HUGE_PAGE * HUGE_PAGE);
        if last > first {
            // SAFETY: the range lies inside the vector's own allocation, and MADV_HUGEPAGE
            // changes neither its contents nor its mapping, only how later faults are served.
            unsafe { libc::madvise(first as *mut libc::c_void, last - first, libc::MADV_HUGEPAGE) };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = buffer;
}
