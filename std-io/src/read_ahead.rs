//! A scan's read-ahead that keeps moving while the consumer works: the GETs in flight are polled on every
//! item the consumer takes, not only when it has taken every entry of the current run.
//!
//! A scan fetches runs of blocks with a few GETs in flight (`StreamExt::buffered`). Flattened the usual way,
//! the runs in flight are polled only between runs, so while the consumer works through the ~36 000 entries
//! of a 4 MiB run nobody reads their HTTP bodies, the sockets fill and the server stops sending: the GETs are
//! not ahead, they take turns with the consumer. Spawning them as tasks would keep them going but would tie
//! the reader to tokio's executor; polling them from the consumer's own task, on each item, keeps them going
//! on any executor.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::stream::{Fuse, Stream, StreamExt};

/// The items of a stream of runs (iterators of items, which may produce them lazily), in order, polling the
/// runs stream for more runs on every item it yields, so up to `max` finished runs wait while the consumer works
/// on the current one.
pub(crate) struct ReadAhead<I> {
    runs: Fuse<Pin<Box<dyn Stream<Item = I> + Send>>>,
    ready: VecDeque<I>,
    current: Option<I>,
    max: usize,
}

impl<I: Iterator> ReadAhead<I> {
    /// Flattens `runs`, keeping at most `max` (at least 1) finished runs besides the current one.
    pub(crate) fn new(runs: Pin<Box<dyn Stream<Item = I> + Send>>, max: usize) -> Self {
        ReadAhead { runs: runs.fuse(), ready: VecDeque::new(), current: None, max: max.max(1) }
    }

    /// Takes the runs that are finished, while there is room: this is what moves the GETs in flight along.
    fn drive(&mut self, cx: &mut Context<'_>) {
        while self.ready.len() < self.max {
            match self.runs.poll_next_unpin(cx) {
                Poll::Ready(Some(run)) => self.ready.push_back(run),
                Poll::Ready(None) | Poll::Pending => break,
            }
        }
    }
}

// Nothing is pinned in place: the runs stream is boxed, the rest are plain values.
impl<I> Unpin for ReadAhead<I> {}

impl<I: Iterator> Stream for ReadAhead<I> {
    type Item = I::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<I::Item>> {
        let this = self.get_mut();
        loop {
            this.drive(cx);
            if let Some(item) = this.current.as_mut().and_then(Iterator::next) {
                return Poll::Ready(Some(item));
            }
            match this.ready.pop_front() {
                Some(run) => this.current = Some(run),
                // `drive` left `ready` empty only when the runs stream was pending (it will wake this task)
                // or has ended.
                None if this.runs.is_done() => return Poll::Ready(None),
                None => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::channel::mpsc;
    use futures::executor::block_on;
    use futures::task::noop_waker_ref;

    #[test]
    fn yields_every_item_in_order_skipping_empty_runs() {
        let runs = futures::stream::iter(vec![vec![1, 2], vec![], vec![3], vec![], vec![4, 5, 6]]).map(Vec::into_iter);
        let all: Vec<i32> = block_on(ReadAhead::new(Box::pin(runs), 2).collect());
        assert_eq!(all, [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn takes_finished_runs_while_the_current_one_is_consumed_up_to_max() {
        let (tx, rx) = mpsc::unbounded::<Vec<u32>>();
        let mut s = ReadAhead::new(Box::pin(rx.map(Vec::into_iter)), 2);
        let mut cx = Context::from_waker(noop_waker_ref());
        assert_eq!(s.poll_next_unpin(&mut cx), Poll::Pending);
        tx.unbounded_send(vec![1, 2, 3]).unwrap();
        assert_eq!(s.poll_next_unpin(&mut cx), Poll::Ready(Some(1)));
        // Two more runs finish while the first is being consumed: taken on the next item, a third waits.
        for r in [vec![4], vec![5], vec![6]] {
            tx.unbounded_send(r).unwrap();
        }
        assert_eq!(s.poll_next_unpin(&mut cx), Poll::Ready(Some(2)));
        assert_eq!(s.ready.len(), 2);
        drop(tx);
        let rest: Vec<u32> = block_on(s.collect());
        assert_eq!(rest, [3, 4, 5, 6]);
    }
}
