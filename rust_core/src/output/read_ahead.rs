//! A cursor that encodes the next batch on a worker thread while its caller decodes this one.
//!
//! Each cursor has at most one worker, started with the first read-ahead and kept until the
//! cursor is dropped; it encodes one batch per request, so nothing is encoded that the cursor's
//! position has not asked for. Dropping the cursor stops the worker, waiting at most for the
//! batch it is encoding. After `fork()` the child holds the cursor but not the thread: the
//! cursor notices (the process id changed), leaves the parent's worker alone and encodes on the
//! caller's thread from then on.

use super::{cursor::Cursor, wire::BatchLayout};
use crate::{base::error::Error, data_set::market_data::MarketData};
use std::{
    sync::mpsc::{channel, Receiver, Sender},
    thread::JoinHandle,
};

/// A [`Cursor`] whose next batch of the same size and layout is encoded ahead. The read-ahead never changes
/// what is handed out: a prefetched batch larger than the next request, or one that failed, is
/// dropped and that request is served from the cursor's own position.
#[derive(Debug)]
pub struct ReadAheadCursor {
    cursor: Cursor,
    ahead: Ahead,
    /// The size and layout of the batch the worker is encoding for the next request.
    in_flight: Option<(usize, BatchLayout)>,
}

#[derive(Debug)]
enum Ahead {
    NotStarted,
    Running(Worker),
    /// No thread could be had, or this process is a fork's child: encode on the caller's thread.
    Unavailable,
}

type Reply = Result<(usize, Vec<u8>), Error>;

#[derive(Debug)]
struct Worker {
    process: u32,
    requests: Sender<(usize, usize, BatchLayout)>,
    replies: Receiver<Reply>,
    thread: JoinHandle<()>,
}

impl Worker {
    fn start(cursor: &Cursor) -> Option<Self> {
        let (requests, pending) = channel::<(usize, usize, BatchLayout)>();
        let (answer, replies) = channel::<Reply>();
        let cursor = cursor.clone();
        let thread = std::thread::Builder::new()
            .name("barter_ffi-read-ahead".into())
            .spawn(move || {
                // Ends when the cursor drops its sender (or its receiver).
                while let Ok((position, max_events, layout)) = pending.recv() {
                    let mut bytes = Vec::new();
                    let reply =
                        cursor.encode_batch_at(position, max_events, layout, &mut bytes).map(|next| (next, bytes));
                    if answer.send(reply).is_err() {
                        return;
                    }
                }
            })
            .ok()?;
        Some(Self { process: std::process::id(), requests, replies, thread })
    }
}

impl ReadAheadCursor {
    pub fn new(data: &MarketData) -> Self {
        Self { cursor: Cursor::new(data), ahead: Ahead::NotStarted, in_flight: None }
    }

    /// As [`Cursor::next_batch`], returning the encoded batch.
    pub fn next_batch(&mut self, max_events: usize, layout: BatchLayout) -> Result<Vec<u8>, Error> {
        self.leave_a_parents_worker();
        let bytes = match self.prefetched(max_events, layout) {
            Some((position, bytes)) => {
                self.cursor.position = position;
                bytes
            }
            None => {
                let mut bytes = Vec::new();
                self.cursor.next_batch(max_events, layout, &mut bytes)?;
                bytes
            }
        };
        if self.cursor.has_more() {
            self.read_ahead(max_events, layout);
        }
        Ok(bytes)
    }

    /// The batch the worker encoded, if it fits this request.
    fn prefetched(&mut self, max_events: usize, layout: BatchLayout) -> Option<(usize, Vec<u8>)> {
        let (size, encoded_layout) = self.in_flight.take()?;
        let Ahead::Running(worker) = &self.ahead else { return None };
        // Received even when it will not be used, so that replies stay paired with requests.
        let reply = worker.replies.recv().ok()?.ok()?;
        (size <= max_events && encoded_layout == layout).then_some(reply)
    }

    fn read_ahead(&mut self, max_events: usize, layout: BatchLayout) {
        if let Ahead::NotStarted = self.ahead {
            self.ahead = Worker::start(&self.cursor).map_or(Ahead::Unavailable, Ahead::Running);
        }
        if let Ahead::Running(worker) = &self.ahead {
            if worker.requests.send((self.cursor.position, max_events, layout)).is_ok() {
                self.in_flight = Some((max_events, layout));
            }
        }
    }

    /// In a fork's child the worker does not exist: its channels and handle belong to a thread of
    /// the parent, so they are set aside untouched (a few bytes leaked) rather than waited on.
    fn leave_a_parents_worker(&mut self) {
        if matches!(&self.ahead, Ahead::Running(worker) if worker.process != std::process::id()) {
            std::mem::forget(std::mem::replace(&mut self.ahead, Ahead::Unavailable));
            self.in_flight = None;
        }
    }
}

impl Drop for ReadAheadCursor {
    fn drop(&mut self) {
        self.leave_a_parents_worker();
        if let Ahead::Running(Worker { requests, replies, thread, .. }) =
            std::mem::replace(&mut self.ahead, Ahead::Unavailable)
        {
            // Closing both channels ends the worker's loop after the batch it is on, if any.
            drop(requests);
            drop(replies);
            let _ = thread.join();
        }
    }
}
