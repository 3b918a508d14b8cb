//! A cursor that encodes the next batch on a worker thread while its caller decodes this one.
//!
//! Each cursor has at most one worker, started with the first read-ahead and kept until the
//! cursor is dropped; it encodes one batch per request, so nothing is encoded that the cursor's
//! position has not asked for. Dropping the cursor stops the worker, waiting at most for the
//! batch it is encoding. After `fork()` the child holds the cursor but not the thread: the
//! cursor notices (the process id changed), leaves the parent's worker alone and encodes on the
//! caller's thread from then on.

use super::{cursor::Cursor, wire::BatchLayout};
use crate::{
    base::{error::Error, guard, process::MadeIn},
    data_set::market_data::MarketData,
};
use std::{
    sync::mpsc::{channel, Receiver, Sender},
    thread::JoinHandle,
};

/// A [`Cursor`] whose next batch of the same size and layout is encoded ahead. The read-ahead
/// never changes what is handed out: a prefetched batch is served only if it is the batch the
/// next request asks for (the same layout, and as many events, or fewer because it reached the
/// end); otherwise, or if it failed, it is dropped and that request is served from the
/// cursor's own position.
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
    made_in: MadeIn,
    requests: Sender<(usize, usize, BatchLayout)>,
    replies: Receiver<Reply>,
    thread: JoinHandle<Result<(), Error>>,
}

impl Worker {
    fn start(cursor: &Cursor) -> Option<Self> {
        let (requests, pending) = channel::<(usize, usize, BatchLayout)>();
        let (answer, replies) = channel::<Reply>();
        let cursor = cursor.clone();
        // A panic ends the thread, closing its channels: each request is then served on the
        // caller's thread.
        let thread = guard::spawn("barter_ffi-read-ahead", move || {
            // Ends when the cursor drops its sender (or its receiver).
            while let Ok((position, max_events, layout)) = pending.recv() {
                let mut bytes = Vec::new();
                let reply = cursor.encode_batch_at(position, max_events, layout, &mut bytes).map(|next| (next, bytes));
                if answer.send(reply).is_err() {
                    break;
                }
            }
            Ok(())
        })
        .ok()?;
        Some(Self { made_in: MadeIn::this_process(), requests, replies, thread })
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

    /// The batch the worker encoded, if it is the one this request asks for.
    fn prefetched(&mut self, max_events: usize, layout: BatchLayout) -> Option<(usize, Vec<u8>)> {
        let (size, encoded_layout) = self.in_flight.take()?;
        let Ahead::Running(worker) = &self.ahead else { return None };
        // Received even when it will not be used, so that replies stay paired with requests.
        let (next, bytes) = worker.replies.recv().ok()?.ok()?;
        // A smaller batch is this request's only when nothing is left after it: otherwise a
        // host asking for more would get less (and a ramp of batch sizes would lag a step).
        let same_events = size == max_events || (size < max_events && !self.cursor.has_more_after(next));
        (same_events && encoded_layout == layout).then_some((next, bytes))
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
        if matches!(&self.ahead, Ahead::Running(worker) if worker.made_in.is_forked_child()) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `count` trades, ids 0 to count - 1, as JSON Lines.
    fn trades(count: usize) -> MarketData {
        let line = |id: usize| {
            format!(
                r#"{{"Item":{{"time_exchange":"2024-12-20T19:05:18.175Z","time_received":"2024-12-20T19:05:18.175Z","exchange":"okx","instrument":0,"kind":{{"Trade":{{"id":"{id}","price":1.0,"amount":1.0,"side":"Buy"}}}}}}}}"#
            )
        };
        MarketData::from_bytes((0..count).map(line).collect::<Vec<_>>().join("\n").as_bytes(), "trades").unwrap()
    }

    fn events_in(batch: &[u8]) -> u32 {
        rmp::decode::read_array_len(&mut &batch[..]).unwrap()
    }

    #[test]
    fn a_batch_read_ahead_for_a_smaller_request_is_not_served_for_a_larger_one() {
        let data = trades(30);
        let mut cursor = ReadAheadCursor::new(&data);
        let mut sizes = Vec::new();
        // Growing, shrinking and alternating sizes, as a ramp and a C host's loop ask them.
        for max_events in [2, 5, 5, 3, 7, 1, 100] {
            sizes.push(events_in(&cursor.next_batch(max_events, BatchLayout::Events).unwrap()));
        }
        assert_eq!(sizes, [2, 5, 5, 3, 7, 1, 7]);
        assert_eq!(events_in(&cursor.next_batch(4, BatchLayout::Events).unwrap()), 0, "the end stays the end");
    }

    #[test]
    fn the_next_batch_is_read_ahead_while_events_remain_and_not_past_the_end() {
        let data = trades(10);
        let mut cursor = ReadAheadCursor::new(&data);
        for (batch, asked) in [(4, Some(4)), (4, Some(4)), (2, None)] {
            assert_eq!(events_in(&cursor.next_batch(4, BatchLayout::Events).unwrap()), batch);
            assert_eq!(cursor.in_flight.map(|(size, _)| size), asked, "after a batch of {batch}");
        }
        assert!(matches!(cursor.ahead, Ahead::Running(_)), "one worker, started by the first batch");
    }
}
