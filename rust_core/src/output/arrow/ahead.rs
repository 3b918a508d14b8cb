//! Items `0..count` built on worker threads, a bounded distance ahead of the reader, and handed
//! out in order.
//!
//! A table's batches are independent of each other once their spans are known, and the reader
//! (pyarrow, polars, a C host) takes them one at a time on one thread. Building them there left
//! the other cores idle for the whole export. Here worker `w` of `n` builds items `w`, `w + n`,
//! … and hands each over through a rendezvous channel, so at most one finished item per worker
//! waits for the reader and nothing is built that the reader does not ask for next.
//!
//! The workers start with the first item read and stop when the reader is dropped, waiting at
//! most for the item each is building. Where no thread can be had, in a fork's child (which holds
//! the handles but not the threads), or after a worker died, items are built on the caller's
//! thread: the order and values handed out never depend on the threads.

use crate::base::{error::Error, guard, process::MadeIn};
use std::{
    sync::{
        mpsc::{sync_channel, Receiver},
        Arc,
    },
    thread::JoinHandle,
};

/// At most this many workers per reader: beyond it the reader's own handling of batches, not
/// their building, sets the pace.
const MAX_WORKERS: usize = 4;

type Build<T> = Arc<dyn Fn(usize) -> T + Send + Sync>;

pub struct BuiltAhead<T> {
    build: Build<T>,
    count: usize,
    next: usize,
    workers: Workers<T>,
}

enum Workers<T> {
    NotStarted,
    Running {
        made_in: MadeIn,
        workers: Vec<Worker<T>>,
    },
    /// One item in all, one core, no thread to be had, or a fork's child: build on the caller's thread.
    Unavailable,
}

struct Worker<T> {
    items: Receiver<T>,
    thread: JoinHandle<Result<(), Error>>,
}

impl<T: Send + 'static> BuiltAhead<T> {
    pub fn new(count: usize, build: impl Fn(usize) -> T + Send + Sync + 'static) -> Self {
        Self { build: Arc::new(build), count, next: 0, workers: Workers::NotStarted }
    }

    fn start_workers(&mut self) {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let wanted = cores.min(self.count).min(MAX_WORKERS);
        let mut workers = Vec::with_capacity(wanted);
        while wanted >= 2 && workers.len() < wanted {
            match self.spawn(workers.len(), wanted) {
                Some(worker) => workers.push(worker),
                None => break,
            }
        }
        self.workers = if workers.len() == wanted && wanted >= 2 {
            Workers::Running { made_in: MadeIn::this_process(), workers }
        } else {
            stop(workers);
            Workers::Unavailable
        };
    }

    fn spawn(&self, first: usize, step: usize) -> Option<Worker<T>> {
        let (hand_over, items) = sync_channel(0);
        let (build, count) = (Arc::clone(&self.build), self.count);
        // A panic ends the thread, closing its channel: its items are then built by the reader.
        let thread = guard::spawn("barter_ffi-arrow-ahead", move || {
            for index in (first..count).step_by(step) {
                // Fails once the reader is gone: stop rather than build for no one.
                if hand_over.send(build(index)).is_err() {
                    break;
                }
            }
            Ok(())
        })
        .ok()?;
        Some(Worker { items, thread })
    }

    /// In a fork's child the workers do not exist: their channels and handles belong to threads
    /// of the parent, so they are set aside untouched (a few bytes leaked) rather than waited on.
    fn leave_a_parents_workers(&mut self) {
        if matches!(self.workers, Workers::Running { made_in, .. } if made_in.is_forked_child()) {
            std::mem::forget(std::mem::replace(&mut self.workers, Workers::Unavailable));
        }
    }
}

impl<T: Send + 'static> Iterator for BuiltAhead<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.next >= self.count {
            return None;
        }
        let index = self.next;
        self.next += 1;
        self.leave_a_parents_workers();
        if let Workers::NotStarted = self.workers {
            self.start_workers();
        }
        let handed_over = match &self.workers {
            Workers::Running { workers, .. } => workers[index % workers.len()].items.recv().ok(),
            _ => None,
        };
        // A worker that is gone (it panicked) leaves its items to the caller's thread.
        Some(handed_over.unwrap_or_else(|| (self.build)(index)))
    }
}

impl<T> Drop for BuiltAhead<T> {
    fn drop(&mut self) {
        if let Workers::Running { made_in, workers } = std::mem::replace(&mut self.workers, Workers::Unavailable) {
            if made_in.is_forked_child() {
                std::mem::forget(workers);
            } else {
                stop(workers);
            }
        }
    }
}

/// Drops every receiver first, so that each worker stops after the item it is on, then waits
/// for them all.
fn stop<T>(workers: Vec<Worker<T>>) {
    let mut threads = Vec::with_capacity(workers.len());
    for Worker { items, thread } in workers {
        drop(items);
        threads.push(thread);
    }
    for thread in threads {
        // A worker that panicked (its guard caught it) has nothing left to clean up.
        let _ = thread.join();
    }
}

#[cfg(test)]
mod tests {
    use super::BuiltAhead;
    use std::sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    };

    #[test]
    fn items_come_in_order_whatever_their_count() {
        for count in [0, 1, 2, 3, 7, 100] {
            let items: Vec<usize> = BuiltAhead::new(count, |index| index * index).collect();
            assert_eq!(items, (0..count).map(|index| index * index).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_reader_dropped_early_stops_its_workers_after_at_most_one_item_each() {
        let built = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&built);
        let mut items = BuiltAhead::new(1_000, move |index| {
            counter.fetch_add(1, Ordering::SeqCst);
            index
        });
        assert_eq!(items.by_ref().take(3).collect::<Vec<_>>(), [0, 1, 2]);
        drop(items); // joins the workers: a hang here is the failure
        assert!(built.load(Ordering::SeqCst) <= 3 + super::MAX_WORKERS, "{built:?} built");
    }

    #[test]
    fn a_worker_that_panics_leaves_its_items_to_the_callers_thread() {
        let on_a_worker = || std::thread::current().name() == Some("barter_ffi-arrow-ahead");
        let items: Vec<usize> = BuiltAhead::new(20, move |index| {
            assert!(!(index == 1 && on_a_worker()), "a worker failing on purpose");
            index
        })
        .collect();
        assert_eq!(items, (0..20).collect::<Vec<_>>());
    }
}
