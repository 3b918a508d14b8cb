//! A file written whole or not at all, for `to_json_file`. A regular file, or a new name, is
//! written under a temporary name beside it and renamed over it once complete: a write that
//! fails or is cut short leaves what was there before, and no half of a file that could read
//! as whole. A FIFO, a device or a socket is written in place and never removed, whatever
//! happens: it belongs to whoever made it, and a reader that went away (`| head`) is no reason to
//! delete it.

use crate::base::error::Error;
use std::{
    fs::{self, File},
    io,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

/// Writes `path` with `write`; a failure's error names `path`, never the temporary name.
pub fn write_whole(path: &Path, write: impl FnOnce(File) -> io::Result<()>) -> Result<(), Error> {
    let written = match destination(path) {
        Destination::RegularFile(file) => replace(&file, write),
        Destination::InPlace => File::create(path).and_then(write),
    };
    written.map_err(|error| Error::io_writing(path, &error))
}

enum Destination {
    /// A regular file, symbolic links followed (so a link is kept and its file replaced), or the
    /// new file a name that does not exist yet will be.
    RegularFile(PathBuf),
    /// Anything else: written through the name as given, whose failure is the OS's to report.
    InPlace,
}

fn destination(path: &Path) -> Destination {
    match fs::metadata(path) {
        Ok(found) if found.is_file() => fs::canonicalize(path).map_or(Destination::InPlace, Destination::RegularFile),
        // A dangling symbolic link is written through, creating the file it names.
        Err(error) if error.kind() == io::ErrorKind::NotFound && fs::symlink_metadata(path).is_err() => {
            Destination::RegularFile(path.to_path_buf())
        }
        _ => Destination::InPlace,
    }
}

/// `file` written under a temporary name in its directory, then renamed over it, keeping an
/// existing file's permissions. Where the directory takes no new file but the file may be
/// written, it is written in place, and removed if that fails, as nothing of it can be trusted.
fn replace(file: &Path, write: impl FnOnce(File) -> io::Result<()>) -> io::Result<()> {
    let temporary = temporary_name(file);
    let opened = match File::options().write(true).create_new(true).open(&temporary) {
        Ok(opened) => opened,
        Err(error) if error.kind() == io::ErrorKind::PermissionDenied => {
            return File::create(file).and_then(write).inspect_err(|_| drop(fs::remove_file(file)))
        }
        Err(error) => return Err(error),
    };
    let written =
        keep_permissions(file, &opened).and_then(|()| write(opened)).and_then(|()| fs::rename(&temporary, file));
    written.inspect_err(|_| drop(fs::remove_file(&temporary)))
}

fn keep_permissions(file: &Path, temporary: &File) -> io::Result<()> {
    match fs::metadata(file) {
        Ok(existing) => temporary.set_permissions(existing.permissions()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(error),
    }
}

/// `.NAME.PID-N.partial` beside `file`: hidden, and unique among this process's writes and
/// other processes'.
fn temporary_name(file: &Path) -> PathBuf {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let name = file.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let unique = format!("{}-{}", std::process::id(), WRITES.fetch_add(1, Ordering::Relaxed));
    file.with_file_name(format!(".{name}.{unique}.partial"))
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use std::{
        io::Write,
        os::unix::fs::{FileTypeExt, PermissionsExt},
    };

    fn scratch(name: &str) -> PathBuf {
        let directory = std::env::temp_dir().join(format!("barter-ffi-written-{name}-{}", std::process::id()));
        drop(fs::remove_dir_all(&directory));
        fs::create_dir_all(&directory).unwrap();
        directory
    }

    fn failing(file: File) -> io::Result<()> {
        let mut file = file;
        file.write_all(b"half a file")?;
        Err(io::Error::other("the write failed midway"))
    }

    fn entries(directory: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(directory)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_failed_write_leaves_the_file_that_was_there_and_no_temporary_file() {
        let directory = scratch("kept");
        let file = directory.join("day.jsonl");
        fs::write(&file, "yesterday").unwrap();
        let error = write_whole(&file, failing).unwrap_err();
        assert_eq!(error.message, format!("cannot write '{}': the write failed midway", file.display()));
        assert_eq!(fs::read_to_string(&file).unwrap(), "yesterday");
        assert_eq!(entries(&directory), ["day.jsonl"]);
        write_whole(&file, |mut file| file.write_all(b"today")).unwrap();
        assert_eq!(
            (fs::read_to_string(&file).unwrap(), entries(&directory)),
            ("today".into(), vec!["day.jsonl".into()])
        );
    }

    #[test]
    fn a_failed_write_to_a_new_name_leaves_nothing() {
        let directory = scratch("new");
        assert!(write_whole(&directory.join("day.jsonl"), failing).is_err());
        assert!(entries(&directory).is_empty());
    }

    #[test]
    fn a_symbolic_link_is_kept_and_the_file_it_names_replaced_with_its_permissions() {
        let directory = scratch("link");
        let file = directory.join("day.jsonl");
        fs::write(&file, "yesterday").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).unwrap();
        let link = directory.join("latest.jsonl");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(write_whole(&link, failing).is_err());
        assert_eq!(fs::read_to_string(&link).unwrap(), "yesterday");
        write_whole(&link, |mut file| file.write_all(b"today")).unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read_to_string(&file).unwrap(), "today");
        assert_eq!(fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o640);
    }

    #[test]
    fn a_fifo_whose_reader_left_is_written_in_place_and_never_removed() {
        let directory = scratch("fifo");
        let fifo = directory.join("out.jsonl");
        let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                let mut first = [0u8; 4];
                io::Read::read_exact(&mut File::open(fifo).unwrap(), &mut first).unwrap();
                first
            })
        };
        let big = vec![b'x'; 1 << 22];
        let error = write_whole(&fifo, |mut file| file.write_all(&big)).unwrap_err();
        assert_eq!(reader.join().unwrap(), *b"xxxx");
        assert!(error.message.starts_with(&format!("cannot write '{}': Broken pipe", fifo.display())), "{error}");
        assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(), "the FIFO is still there");
    }
}
