//! The scenarios not started yet, shared by the workers, and the `--max-failures` count:
//! a worker whose scenario is the N-th failure empties the queue before it (or any other
//! worker) takes the next one. The dispatcher reads the count to say why the rest did not
//! run. Its own room, so the dispatcher and the workers both use it without importing each
//! other.

use std::collections::VecDeque;

#[derive(Debug, Default)]
pub(super) struct Queue {
    waiting: VecDeque<usize>,
    failures: usize,
    max_failures: Option<usize>,
}

impl Queue {
    pub(super) fn new(order: Vec<usize>, max_failures: Option<usize>) -> Queue {
        Queue { waiting: VecDeque::from(order), failures: 0, max_failures }
    }

    pub(super) fn pop_front(&mut self) -> Option<usize> {
        self.waiting.pop_front()
    }

    pub(super) fn push_front(&mut self, index: usize) {
        self.waiting.push_front(index);
    }

    /// How many scenarios wait to start.
    pub(super) fn len(&self) -> usize {
        self.waiting.len()
    }

    pub(super) fn clear(&mut self) {
        self.waiting.clear();
    }

    /// Count a scenario that ended against the run (`Outcome::counts_against_run`); at
    /// `--max-failures` nothing more starts.
    pub(super) fn failed(&mut self) {
        self.failures += 1;
        if self.stopped_at().is_some() {
            self.waiting.clear();
        }
    }

    /// The `--max-failures` limit, once reached.
    pub(super) fn stopped_at(&self) -> Option<usize> {
        self.max_failures.filter(|&max| self.failures >= max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nth_failure_empties_the_queue_and_says_at_which_limit() {
        let mut q = Queue::new(vec![0, 1, 2, 3], Some(2));
        assert_eq!(q.pop_front(), Some(0));
        q.failed();
        assert_eq!(q.stopped_at(), None);
        assert_eq!(q.pop_front(), Some(1));
        q.failed();
        assert_eq!(q.stopped_at(), Some(2));
        assert_eq!(q.pop_front(), None, "nothing starts after the limit");
    }

    #[test]
    fn without_a_limit_failures_stop_nothing() {
        let mut q = Queue::new(vec![0, 1], None);
        q.failed();
        q.failed();
        assert_eq!(q.stopped_at(), None);
        assert_eq!(q.pop_front(), Some(0));
    }
}
