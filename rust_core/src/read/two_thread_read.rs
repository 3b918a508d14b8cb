//! A plain file read into memory by two threads at once, each copying its half.
//!
//! Reading a file already in the page cache is the kernel copying it and handing out the
//! buffer's pages, on the reading thread. For a 34 MB file that was 10–12 ms, a quarter of the
//! load, spent before the parsing threads could start; two threads, one per half, take about half
//! as long. Bytes appended after the file was opened are read too, as a sequential read would.
//! A file that shrinks meanwhile is left to the sequential read (`None`).

use super::buffer::{prefer_huge_pages, reserve};
use crate::base::{
    error::Error,
    guard,
    progress::{Progress, PROGRESS_INTERVAL},
};
use std::{
    fs::File,
    io,
    mem::MaybeUninit,
    os::unix::io::AsRawFd,
    path::Path,
    sync::atomic::{AtomicBool, Ordering},
    time::Instant,
};

/// Below this size one thread reads: a second would cost more than it saves.
pub(crate) const TWO_THREADS_FROM: u64 = 16 << 20;

/// Bytes per read call: the reading thread that reports progress asks it between them.
const PIECE_BYTES: usize = 8 << 20;

/// The whole of `file` (`size` bytes when opened), or `None` when it shrank while being read or
/// no second thread could be had. `progress` is asked (with 0: a plain file's read is not
/// counted) between pieces, and may cancel.
pub(crate) fn read_whole(file: &File, size: u64, path: &Path, progress: Progress) -> Result<Option<Vec<u8>>, Error> {
    let Ok(size) = usize::try_from(size) else { return Ok(None) };
    let source = path.display().to_string();
    let mut json = Vec::new();
    reserve(&mut json, size, &source)?;
    prefer_huge_pages(&mut json);
    let (front, back) = json.spare_capacity_mut()[..size].split_at_mut(size / 2);
    let stop = &AtomicBool::new(false);
    let mut reported = Instant::now();
    let mut keep_reading = || {
        if reported.elapsed() >= PROGRESS_INTERVAL {
            reported = Instant::now();
            if !progress(0) {
                stop.store(true, Ordering::Relaxed);
            }
        }
        !stop.load(Ordering::Relaxed)
    };
    let (front_read, back_read) = std::thread::scope(|scope| {
        let back_offset = front.len() as u64;
        let back_thread = guard::spawn_scoped(scope, "barter_ffi-read", move || {
            Ok(read_at(file, back, back_offset, || !stop.load(Ordering::Relaxed)))
        });
        let Ok(back_thread) = back_thread else { return (Ok(0), None) };
        let front_read = read_at(file, front, 0, &mut keep_reading);
        // A failed front half stops the back one rather than waiting for it.
        if front_read.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        (front_read, Some(guard::joined(back_thread.join())))
    });
    // The back half's thread panicked: that is the error.
    let Some(back_read) = back_read.transpose()? else { return Ok(None) };
    if stop.load(Ordering::Relaxed) && front_read.is_ok() && back_read.is_ok() {
        return Err(Error::cancelled());
    }
    let io_error = |error: io::Error| Error::io(path, &error);
    let (front_read, back_read) = (front_read.map_err(io_error)?, back_read.map_err(io_error)?);
    if front_read < size / 2 || back_read < size - size / 2 {
        return Ok(None);
    }
    // SAFETY: both halves of the first `size` bytes were written by `read_at`, which counts
    // only bytes the kernel reported written.
    unsafe { json.set_len(size) };
    read_appended(file, &mut json, path, &source)?;
    Ok(Some(json))
}

/// Fills `buffer` from `offset` on, piece by piece while `keep_reading()`; returns how many
/// bytes were written, fewer than asked only at the end of the file or when told to stop.
fn read_at(
    file: &File,
    buffer: &mut [MaybeUninit<u8>],
    offset: u64,
    mut keep_reading: impl FnMut() -> bool,
) -> io::Result<usize> {
    let (mut filled, len) = (0, buffer.len());
    while filled < len && keep_reading() {
        let piece = &mut buffer[filled..len.min(filled + PIECE_BYTES)];
        let at =
            libc::off_t::try_from(offset + filled as u64).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: pread writes at most `piece.len()` bytes into `piece`, which is valid for them.
        let count = unsafe { libc::pread(file.as_raw_fd(), piece.as_mut_ptr().cast(), piece.len(), at) };
        match count {
            0 => break,
            count if count > 0 => filled += count as usize,
            _ => {
                let error = io::Error::last_os_error();
                if error.kind() != io::ErrorKind::Interrupted {
                    return Err(error);
                }
            }
        }
    }
    Ok(filled)
}

/// Appends what was written to the file after its size was taken, as a sequential read would.
fn read_appended(file: &File, json: &mut Vec<u8>, path: &Path, source: &str) -> Result<(), Error> {
    use std::os::unix::fs::FileExt;
    let mut piece = [0u8; 64 << 10];
    loop {
        match file.read_at(&mut piece, json.len() as u64) {
            Ok(0) => return Ok(()),
            Ok(count) => {
                reserve(json, count, source)?;
                json.extend_from_slice(&piece[..count]);
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(Error::io(path, &error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{read_appended, read_whole};
    use std::{fs::File, io::Write, os::fd::OwnedFd, path::PathBuf};

    fn file_of(content: &[u8], name: &str) -> (File, PathBuf) {
        let path = std::env::temp_dir().join(format!("barter_ffi-two-thread-read-{}-{name}", std::process::id()));
        File::create(&path).unwrap().write_all(content).unwrap();
        (File::open(&path).unwrap(), path)
    }

    fn content(len: usize) -> Vec<u8> {
        (0..len).map(|at| (at * 7 % 251) as u8).collect()
    }

    #[test]
    fn both_halves_and_what_was_appended_after_the_size_was_taken() {
        let bytes = content(3 * (8 << 20) + 12_345); // several pieces per half, odd length
        let (file, path) = file_of(&bytes, "whole");
        for size_when_opened in [bytes.len(), bytes.len() - 1000] {
            let read = read_whole(&file, size_when_opened as u64, &path, &mut |_| true).unwrap();
            assert!(read.as_deref() == Some(&bytes[..]), "size {size_when_opened}");
        }
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn a_file_that_shrank_is_left_to_the_sequential_read() {
        let bytes = content(1 << 20);
        let (file, path) = file_of(&bytes, "shrank");
        assert_eq!(read_whole(&file, bytes.len() as u64 + 10, &path, &mut |_| true).unwrap(), None);
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn a_read_error_after_the_halves_is_reported_not_retried() {
        // pread on a pipe fails with ESPIPE every time: only an interrupted read may be retried.
        let error = crate::base::guard::within_a_minute(|| {
            let (reader, _writer) = std::io::pipe().unwrap();
            let pipe = File::from(OwnedFd::from(reader));
            read_appended(&pipe, &mut Vec::new(), "a pipe".as_ref(), "a pipe").unwrap_err()
        });
        assert_eq!(error.os_errno, libc::ESPIPE, "{error}");
        assert!(error.message.starts_with("cannot read 'a pipe'"), "{error}");
    }
}
