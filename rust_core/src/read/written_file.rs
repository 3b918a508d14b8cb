//! A file written whole or not at all, for `to_json_file`. A regular file, or a new name, is
//! written under a hidden name beside it (`.NAME.partial`) and renamed over it once complete: a
//! write that fails or is cut short leaves what was there before, and no half of a file that
//! could read as whole. Anything else is written in place and never removed, whatever happens:
//! a FIFO, device or socket, and a name for an open descriptor (`/dev/stdout`, `/dev/fd/N`,
//! `/proc/…/fd/N`, through any link), whose file the descriptor's other writers share: one of
//! this process's own is written through a duplicate of it, at its offset.
//!
//! The hidden name is the same for every write of one file, so a write killed midway leaves one
//! that the next write takes over; a lock on it (`flock`) keeps two writes of one file at a
//! time from mixing, the second refused. A file the caller may not write is refused as opening
//! it would be, though its directory would allow the rename. The new file takes the old one's
//! mode and, where the caller may set them, its owner and group. Other hard links to the file
//! keep the earlier content, as with any write by rename.

use crate::base::error::Error;
use std::{
    fs::{self, File},
    hash::{Hash, Hasher},
    io,
    path::{Path, PathBuf},
};

/// Writes `path` with `write`; a failure's error names `path`, never the hidden name.
pub fn write_whole(path: &Path, write: impl FnOnce(File) -> io::Result<()>) -> Result<(), Error> {
    let written = match destination(path) {
        Destination::RegularFile(file) => replace(&file, write),
        Destination::OwnDescriptor(descriptor) => duplicate(descriptor).and_then(write),
        Destination::InPlace => File::create(path).and_then(write),
    };
    written.map_err(|error| Error::io_writing(path, &error))
}

enum Destination {
    /// A regular file, symbolic links followed (so a link is kept and its file replaced), or the
    /// new file a name that does not exist yet will be.
    RegularFile(PathBuf),
    /// A name for one of this process's open descriptors (`/dev/stdout`, `/dev/fd/N`,
    /// `/proc/self/fd/N`): written through a duplicate of it, at its offset, so that what the
    /// descriptor's other writers wrote before and write after stays (reopening the name would
    /// truncate a shell's `> log` and write over its start).
    OwnDescriptor(i32),
    /// Anything else: written through the name as given, whose failure is the OS's to report.
    InPlace,
}

fn destination(path: &Path) -> Destination {
    let hops = link_hops(path);
    if let Some(descriptor) = hops.iter().find_map(|hop| own_descriptor(hop)) {
        return Destination::OwnDescriptor(descriptor);
    }
    if hops.iter().any(|hop| hop.starts_with("/proc") || hop.starts_with("/dev/fd")) {
        return Destination::InPlace;
    }
    match fs::metadata(path) {
        Ok(found) if found.is_file() => fs::canonicalize(path).map_or(Destination::InPlace, Destination::RegularFile),
        // A dangling symbolic link is written through, creating the file it names.
        Err(error) if error.kind() == io::ErrorKind::NotFound && fs::symlink_metadata(path).is_err() => {
            Destination::RegularFile(path.to_path_buf())
        }
        _ => Destination::InPlace,
    }
}

/// `path` made absolute, then each symbolic link on the way from it, in turn.
fn link_hops(path: &Path) -> Vec<PathBuf> {
    let mut hops = vec![std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())];
    while hops.len() < 40 {
        let Ok(target) = fs::read_link(&hops[hops.len() - 1]) else { break };
        let hop = hops[hops.len() - 1].parent().map_or(target.clone(), |parent| parent.join(target));
        hops.push(hop);
    }
    hops
}

/// The descriptor of this process that `hop` names, if it names one.
fn own_descriptor(hop: &Path) -> Option<i32> {
    let own_fd_directory = format!("/proc/{}/fd", std::process::id());
    match hop.to_str()? {
        "/dev/stdout" => Some(1),
        "/dev/stderr" => Some(2),
        text => ["/dev/fd/", "/proc/self/fd/", &format!("{own_fd_directory}/")]
            .iter()
            .find_map(|directory| text.strip_prefix(directory)?.parse().ok()),
    }
}

#[cfg(unix)]
fn duplicate(descriptor: i32) -> io::Result<File> {
    use std::os::unix::io::FromRawFd;
    // SAFETY: dup makes a descriptor this function then owns; the original stays its owner's.
    match unsafe { libc::dup(descriptor) } {
        -1 => Err(io::Error::last_os_error()),
        // SAFETY: `duplicate` is open and owned by nothing else.
        duplicate => Ok(unsafe { File::from_raw_fd(duplicate) }),
    }
}

#[cfg(not(unix))]
fn duplicate(_: i32) -> io::Result<File> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "a name for an open descriptor"))
}

/// `file` written under its hidden name, then renamed over it.
fn replace(file: &Path, write: impl FnOnce(File) -> io::Result<()>) -> io::Result<()> {
    let existing = match fs::metadata(file) {
        Ok(existing) => {
            drop(File::options().write(true).open(file)?); // refused as writing it in place would be
            Some(existing)
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => None,
        Err(error) => return Err(error),
    };
    let hidden = hidden_name(file);
    let opened = File::options().write(true).create(true).truncate(false).open(&hidden)?;
    lock(&opened, &hidden)?;
    let written = opened
        .set_len(0)
        .and_then(|()| existing.as_ref().map_or(Ok(()), |existing| take_over(existing, &opened)))
        .and_then(|()| opened.try_clone())
        .and_then(write)
        .and_then(|()| fs::rename(&hidden, file));
    written.inspect_err(|_| drop(fs::remove_file(&hidden)))
}

/// Locks `opened`, the file at `hidden`, for this write, or says another write holds it. A
/// write that opened the name just before another renamed it over the target must not take
/// the target for its own: the lock counts only while the name is still the file locked.
#[cfg(unix)]
fn lock(opened: &File, hidden: &Path) -> io::Result<()> {
    use std::os::unix::{fs::MetadataExt, io::AsRawFd};
    let under_way = || io::Error::new(io::ErrorKind::WouldBlock, "another write to this file is under way");
    // SAFETY: flock on a descriptor the caller owns; the lock goes with it when it is closed.
    if unsafe { libc::flock(opened.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let error = io::Error::last_os_error();
        return Err(if error.kind() == io::ErrorKind::WouldBlock { under_way() } else { error });
    }
    let (locked, named) = (opened.metadata()?, fs::metadata(hidden));
    match named {
        Ok(named) if (named.dev(), named.ino()) == (locked.dev(), locked.ino()) => Ok(()),
        _ => Err(under_way()),
    }
}

#[cfg(not(unix))]
fn lock(_: &File, _: &Path) -> io::Result<()> {
    Ok(())
}

/// The existing file's mode, and its owner and group where the caller may set them.
fn take_over(existing: &fs::Metadata, new: &File) -> io::Result<()> {
    new.set_permissions(existing.permissions())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        drop(std::os::unix::fs::fchown(new, Some(existing.uid()), Some(existing.gid())));
    }
    Ok(())
}

/// `.NAME.partial` beside `file`, or, for a name too long to take nine more bytes,
/// `.barter-ffi-HASH.partial`.
fn hidden_name(file: &Path) -> PathBuf {
    let name = file.file_name().unwrap_or_default();
    if name.len() + ".partial".len() < 255 {
        let mut hidden = std::ffi::OsString::from(".");
        hidden.push(name);
        hidden.push(".partial");
        return file.with_file_name(hidden);
    }
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    name.hash(&mut hasher);
    file.with_file_name(format!(".barter-ffi-{:016x}.partial", hasher.finish()))
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

    #[test]
    fn a_write_killed_midway_leaves_its_hidden_file_to_the_next_write() {
        let directory = scratch("killed");
        let file = directory.join("day.jsonl");
        fs::write(directory.join(".day.jsonl.partial"), "half of a killed write").unwrap();
        write_whole(&file, |mut file| file.write_all(b"today")).unwrap();
        assert_eq!(
            (fs::read_to_string(&file).unwrap(), entries(&directory)),
            ("today".into(), vec!["day.jsonl".into()])
        );
    }

    #[test]
    fn a_second_write_of_a_file_under_way_is_refused_and_the_first_completes() {
        let directory = scratch("twice");
        let file = directory.join("day.jsonl");
        write_whole(&file, |mut opened| {
            let second = write_whole(&file, |mut other| other.write_all(b"second")).unwrap_err();
            assert!(second.message.ends_with("another write to this file is under way"), "{second}");
            opened.write_all(b"first")
        })
        .unwrap();
        assert_eq!(
            (fs::read_to_string(&file).unwrap(), entries(&directory)),
            ("first".into(), vec!["day.jsonl".into()])
        );
    }

    #[test]
    fn a_name_too_long_for_the_hidden_suffix_is_written_all_the_same() {
        let directory = scratch("long");
        let file = directory.join(format!("{}.jsonl", "a".repeat(249)));
        write_whole(&file, |mut opened| opened.write_all(b"today")).unwrap();
        assert_eq!(fs::read_to_string(&file).unwrap(), "today");
        assert_eq!(entries(&directory).len(), 1);
    }

    #[test]
    fn a_name_for_an_open_descriptor_is_written_through_it_at_its_offset() {
        // As `{ echo before; … to_json_file("/dev/stdout"); echo after; } > log.txt`.
        use std::os::unix::{fs::MetadataExt, io::AsRawFd};
        let directory = scratch("descriptor");
        let log = directory.join("log.txt");
        let mut shells = File::create(&log).unwrap();
        shells.write_all(b"before ").unwrap();
        let inode = fs::metadata(&log).unwrap().ino();
        let link = directory.join("out.jsonl");
        std::os::unix::fs::symlink(format!("/proc/self/fd/{}", shells.as_raw_fd()), &link).unwrap();
        write_whole(&link, |mut opened| opened.write_all(b"today")).unwrap();
        shells.write_all(b" after").unwrap();
        assert_eq!(
            (fs::read_to_string(&log).unwrap(), fs::metadata(&log).unwrap().ino()),
            ("before today after".into(), inode)
        );
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(own_descriptor(Path::new("/dev/stdout")), Some(1));
        assert_eq!(own_descriptor(Path::new("/dev/fd/7")), Some(7));
        assert_eq!(own_descriptor(&PathBuf::from(format!("/proc/{}/fd/9", std::process::id()))), Some(9));
        assert_eq!(own_descriptor(Path::new("/proc/1/fd/9")), None, "another process's: written in place, by name");
    }
}
