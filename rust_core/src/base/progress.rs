//! How a long load reports how far it is, and how its caller cancels it.

/// Told, on the thread that called the load, how many bytes of the input are done so far
/// (never decreasing, last with the input's length). While other threads read or parse, it is
/// called at least every [`PROGRESS_INTERVAL`], so a host can react (a Ctrl-C) in time.
/// Returning `false` cancels the load before its next piece: the load then fails with
/// `Cancelled`.
pub type Progress<'a> = &'a mut dyn FnMut(usize) -> bool;

/// How often the loading thread reports while other threads read or parse.
pub const PROGRESS_INTERVAL: std::time::Duration = std::time::Duration::from_millis(50);
