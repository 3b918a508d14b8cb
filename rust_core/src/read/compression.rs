//! Compressed recordings: gzip, zstd and bzip2, told apart by their magic bytes, never by a
//! file name (recorders name files freely; a `.json` may well be gzip).
//!
//! | format | magic bytes | many members / frames / streams in one file |
//! |---|---|---|
//! | gzip | `1F 8B` | read to the end (`cat a.gz b.gz`, pigz, log rotation) |
//! | zstd | `28 B5 2F FD` | read to the end (`zstd` appends frames) |
//! | bzip2 | `B Z h` + block size `1`–`9` | read to the end (pbzip2) |
//!
//! Anything else is read as it is: barter's JSON starts with `[`, `{` or whitespace, none of
//! which begins a magic number. A corrupt or truncated archive is an `InvalidData` error naming
//! the format, never a partial load. (A zstd frame written without a checksum cannot show damage
//! to its content; the damaged JSON then fails to parse. Files written here carry one.)

use super::buffer::{prefer_huge_pages, reserve};
#[cfg(unix)]
use super::two_thread_read;
use crate::base::{
    error::Error,
    progress::{Progress, PROGRESS_INTERVAL},
};
use std::{
    borrow::Cow,
    fs::File,
    io::{self, BufRead, BufReader, Read, Write},
    path::Path,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Instant,
};

/// A compression format this crate reads and writes. The discriminants are part of the C ABI
/// (`BarterFfiCompression`, used when writing): append, never renumber.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarterFfiCompression {
    /// Plain JSON.
    None = 0,
    Gzip = 1,
    Zstd = 2,
    Bzip2 = 3,
}

/// The longest magic number checked for.
const MAGIC_BYTES: usize = 4;

impl BarterFfiCompression {
    /// The format whose magic number `prefix` starts with.
    pub fn detect(prefix: &[u8]) -> Self {
        match prefix {
            [0x1F, 0x8B, ..] => Self::Gzip,
            [0x28, 0xB5, 0x2F, 0xFD, ..] => Self::Zstd,
            [b'B', b'Z', b'h', b'1'..=b'9', ..] => Self::Bzip2,
            _ => Self::None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::None => "plain",
            Self::Gzip => "gzip",
            Self::Zstd => "zstd",
            Self::Bzip2 => "bzip2",
        }
    }

    /// The decompressed bytes of `compressed`, every member, frame or stream of it.
    fn decoder<'a>(self, compressed: impl BufRead + Send + 'a) -> io::Result<Box<dyn Read + Send + 'a>> {
        Ok(match self {
            Self::None => Box::new(compressed),
            Self::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(compressed)),
            Self::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(compressed)?),
            Self::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(compressed)),
        })
    }

    /// A writer compressing into `output`; [`Encoder::finish`] writes the format's trailer.
    pub fn encoder<W: Write>(self, output: W) -> io::Result<Encoder<W>> {
        Ok(match self {
            Self::None => Encoder::Plain(output),
            Self::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(output, flate2::Compression::default())),
            Self::Zstd => {
                let mut encoder = zstd::stream::write::Encoder::new(output, zstd::DEFAULT_COMPRESSION_LEVEL)?;
                // As the zstd tool does: without it a damaged frame decodes to garbage unnoticed.
                encoder.include_checksum(true)?;
                Encoder::Zstd(encoder)
            }
            Self::Bzip2 => Encoder::Bzip2(bzip2::write::BzEncoder::new(output, bzip2::Compression::default())),
        })
    }
}

/// Compresses what is written into an output; complete only once [`finish`](Self::finish) ran.
pub enum Encoder<W: Write> {
    Plain(W),
    Gzip(flate2::write::GzEncoder<W>),
    Zstd(zstd::stream::write::Encoder<'static, W>),
    Bzip2(bzip2::write::BzEncoder<W>),
}

impl<W: Write> Encoder<W> {
    fn inner(&mut self) -> &mut dyn Write {
        match self {
            Self::Plain(output) => output,
            Self::Gzip(encoder) => encoder,
            Self::Zstd(encoder) => encoder,
            Self::Bzip2(encoder) => encoder,
        }
    }

    /// Writes the format's trailer and flushes: the output, complete.
    pub fn finish(self) -> io::Result<W> {
        let mut output = match self {
            Self::Plain(output) => output,
            Self::Gzip(encoder) => encoder.finish()?,
            Self::Zstd(encoder) => encoder.finish()?,
            Self::Bzip2(encoder) => encoder.finish()?,
        };
        output.flush()?;
        Ok(output)
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.inner().write(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner().flush()
    }
}

/// Marks an I/O error of the file itself, as opposed to one a decoder raises about its input.
#[derive(Debug)]
struct SourceError(io::Error);

impl std::fmt::Display for SourceError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        self.0.fmt(formatter)
    }
}

impl std::error::Error for SourceError {}

/// A file counting the bytes read from it (what progress reports for a compressed file), and
/// marking its own errors so that they are not mistaken for a corrupt archive.
struct CountedFile {
    file: File,
    read: Arc<AtomicU64>,
}

impl Read for CountedFile {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let count = self.file.read(buffer).map_err(|error| io::Error::new(error.kind(), SourceError(error)))?;
        self.read.fetch_add(count as u64, Ordering::Relaxed);
        Ok(count)
    }
}

/// A file opened for reading its decompressed content.
pub struct OpenedFile {
    pub compression: BarterFfiCompression,
    /// The file's size on disk.
    pub size: u64,
    /// Bytes read from disk so far (compressed bytes, for a compressed file).
    pub read_from_disk: Arc<AtomicU64>,
    /// The file's JSON, decompressed.
    pub content: Box<dyn Read + Send>,
    /// For a plain file, a second handle to it, to read at offsets from several threads.
    plain_file: Option<File>,
    path: std::path::PathBuf,
    source: String,
}

impl OpenedFile {
    pub fn open(path: &Path) -> Result<Self, Error> {
        let io_error = |error: io::Error| Error::io(path, &error);
        let file = File::open(path).map_err(io_error)?;
        let size = file.metadata().map_err(io_error)?.len();
        let read_from_disk = Arc::new(AtomicU64::new(0));
        let mut file = CountedFile { file, read: Arc::clone(&read_from_disk) };
        let prefix = read_prefix(&mut file).map_err(|error| io_error(unmarked(error)))?;
        let compression = BarterFfiCompression::detect(&prefix);
        let plain_file = (compression == BarterFfiCompression::None).then(|| file.file.try_clone().ok()).flatten();
        let buffered = BufReader::with_capacity(1 << 20, io::Cursor::new(prefix).chain(file));
        let content = compression.decoder(buffered).map_err(io_error)?;
        let source = path.display().to_string();
        Ok(Self { compression, size, read_from_disk, content, plain_file, path: path.to_path_buf(), source })
    }

    /// Appends up to `limit` bytes of decompressed JSON to `buffer`, growing it only when full
    /// (so a buffer sized for a plain file is never grown); 0 only at the end.
    pub fn append_to(&mut self, buffer: &mut Vec<u8>, limit: usize) -> Result<usize, Error> {
        match (&mut self.content).take(limit as u64).read_to_end(buffer) {
            Err(error) if error.kind() == io::ErrorKind::OutOfMemory => {
                Err(Error::out_of_memory(format!("'{}' ({} bytes read)", self.source, buffer.len())))
            }
            result => result.map_err(|error| self.read_error(error)),
        }
    }

    fn read_error(&self, error: io::Error) -> Error {
        if error.get_ref().is_some_and(|inner| inner.is::<SourceError>()) {
            Error::io(&self.path, &unmarked(error))
        } else {
            corrupt(&self.source, self.compression, &error)
        }
    }
}

/// As many bytes as a magic number needs, unless the input is shorter; reads again after a
/// short read, as a pipe or a network file system may give one.
fn read_prefix(reader: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut prefix = Vec::with_capacity(MAGIC_BYTES);
    reader.take(MAGIC_BYTES as u64).read_to_end(&mut prefix)?;
    Ok(prefix)
}

/// The file's own error inside a marked one (its OS error number kept), else `error`.
fn unmarked(error: io::Error) -> io::Error {
    if !error.get_ref().is_some_and(|inner| inner.is::<SourceError>()) {
        return error;
    }
    match error.into_inner().map(|inner| inner.downcast::<SourceError>()) {
        Some(Ok(marked)) => marked.0,
        _ => io::Error::other("a read failed"),
    }
}

fn corrupt(source: &str, compression: BarterFfiCompression, error: &io::Error) -> Error {
    Error::invalid_data(format!(
        "{source}: the {} data is corrupt or truncated ({error}); nothing was loaded",
        compression.name()
    ))
}

/// A whole file's JSON, decompressed.
pub struct FileContent {
    pub json: Vec<u8>,
    size_on_disk: u64,
    compressed: bool,
}

impl FileContent {
    /// Reads `path` whole, asking `progress` between pieces (at the usual interval) so that the
    /// read can be cancelled. Progress counts bytes of the file on disk: nothing while a plain
    /// file is read; for a compressed file, the first half of its size tracks decompression.
    pub fn read(path: &Path, progress: Progress) -> Result<Self, Error> {
        // Between two asks of `progress`: a plain file reads this at disk speed, a compressed one
        // at its decoder's (bzip2 makes ~40 MB/s), and Ctrl-C is noticed between pieces.
        const PLAIN_PIECE_BYTES: usize = 16 << 20;
        const DECOMPRESSED_PIECE_BYTES: usize = 2 << 20;
        let mut file = OpenedFile::open(path)?;
        let compressed = file.compression != BarterFfiCompression::None;
        #[cfg(unix)]
        if let Some(plain_file) = file.plain_file.as_ref().filter(|_| file.size >= two_thread_read::TWO_THREADS_FROM) {
            if let Some(json) = two_thread_read::read_whole(plain_file, file.size, path, &mut *progress)? {
                return Ok(Self { json, size_on_disk: file.size, compressed });
            }
        }
        // A plain file's size is its content's; a compressed one grows as it is read.
        let expected = if compressed { file.size.saturating_mul(4) } else { file.size };
        let mut json = Vec::new();
        reserve(&mut json, usize::try_from(expected).unwrap_or(usize::MAX), &file.source)?;
        prefer_huge_pages(&mut json);
        let mut reported = Instant::now();
        let piece = if compressed { DECOMPRESSED_PIECE_BYTES } else { PLAIN_PIECE_BYTES };
        while file.append_to(&mut json, piece)? > 0 {
            if reported.elapsed() >= PROGRESS_INTERVAL {
                let done = if compressed { file.read_from_disk.load(Ordering::Relaxed) / 2 } else { 0 };
                if !progress(usize::try_from(done).unwrap_or(usize::MAX)) {
                    return Err(Error::cancelled());
                }
                reported = Instant::now();
            }
        }
        Ok(Self { json, size_on_disk: file.size, compressed })
    }

    /// `progress` told of the parse of [`json`](Self::json) in bytes of the file on disk, ending
    /// at its size: for a compressed file, the second half of it.
    pub fn parse_progress<'p>(&self, progress: Progress<'p>) -> impl FnMut(usize) -> bool + 'p {
        let (compressed, size, len) = (self.compressed, self.size_on_disk as u128, self.json.len().max(1) as u128);
        move |parsed: usize| {
            let done = if compressed { size / 2 + parsed as u128 * (size - size / 2) / len } else { parsed as u128 };
            progress(usize::try_from(done).unwrap_or(usize::MAX))
        }
    }
}

/// `bytes` decompressed if they start with a known magic number, else as they are.
pub fn decompressed<'a>(bytes: &'a [u8], source: &str) -> Result<Cow<'a, [u8]>, Error> {
    let compression = BarterFfiCompression::detect(bytes);
    if compression == BarterFfiCompression::None {
        return Ok(Cow::Borrowed(bytes));
    }
    let mut decoder = compression.decoder(bytes).map_err(|error| corrupt(source, compression, &error))?;
    let mut json = Vec::new();
    reserve(&mut json, bytes.len().saturating_mul(4), source)?;
    // Straight into the output (no bounce buffer); growth is fallible inside read_to_end.
    match decoder.read_to_end(&mut json) {
        Ok(_) => Ok(Cow::Owned(json)),
        Err(error) if error.kind() == io::ErrorKind::OutOfMemory => {
            Err(Error::out_of_memory(format!("'{source}' ({} bytes decompressed)", json.len())))
        }
        Err(error) => Err(corrupt(source, compression, &error)),
    }
}
