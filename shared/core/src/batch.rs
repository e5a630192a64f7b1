//! An SQS batch from the FIFO work queue, handled the way FIFO order demands.
//!
//! Messages of one message group (one employee) are handled one after another, in order. Once
//! one of them fails, the rest of its group are handed back unprocessed, so that the queue
//! redelivers them after it, in order: handling a later offboarding before an earlier failed
//! onboarding is exactly what the FIFO queue exists to prevent. Groups are independent of each
//! other and run concurrently. A message that can never succeed (rejected) is acknowledged: it
//! has been reported, and retrying it would only block its group.
//!
//! The per-message handler is a parameter, so all of this is tested without AWS. (The runtime's
//! `advanced-sqs-partial-batch-failures` example processes messages concurrently with no regard
//! for groups, which is not FIFO-safe.)

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// One message of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    /// The FIFO message group; `None` on a standard queue, where every message stands alone.
    pub group: Option<String>,
    pub body: String,
}

/// What the handler made of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// Done: acknowledge it.
    Done,
    /// It can never succeed and has been reported: acknowledge it.
    Rejected,
    /// It may succeed later: hand it back, and the rest of its group with it.
    Failed,
}

/// Handles every message of a batch with `handle` and returns the ids of the messages to hand
/// back for redelivery (Lambda's `batchItemFailures`).
pub async fn handle_batch<F, Fut>(messages: Vec<Message>, handle: F) -> Vec<String>
where
    F: Fn(Message) -> Fut,
    Fut: Future<Output = Handled>,
{
    let handle = &handle;
    let groups = fifo_groups(messages).into_iter().map(|group| async move {
        let mut handed_back = Vec::new();
        for message in group {
            if !handed_back.is_empty() {
                handed_back.push(message.id);
                continue;
            }
            let id = message.id.clone();
            if handle(message).await == Handled::Failed {
                handed_back.push(id);
            }
        }
        handed_back
    });
    join_all(groups.collect()).await.concat()
}

/// The messages by FIFO group, each group in arrival order.
pub fn fifo_groups(messages: Vec<Message>) -> Vec<Vec<Message>> {
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    enum Key {
        Alone(usize),
        Group(String),
    }
    let mut groups: BTreeMap<Key, Vec<Message>> = BTreeMap::new();
    for (i, message) in messages.into_iter().enumerate() {
        let key = match &message.group {
            Some(g) => Key::Group(g.clone()),
            None => Key::Alone(i),
        };
        groups.entry(key).or_default().push(message);
    }
    groups.into_values().collect()
}

/// Runs every future to completion concurrently on the caller's task and returns their outputs
/// in order: a minimal `join_all`, since the core has no async runtime to lean on.
fn join_all<F: Future>(futures: Vec<F>) -> JoinAll<F> {
    JoinAll {
        slots: futures
            .into_iter()
            .map(|f| Slot::Pending(Box::pin(f)))
            .collect(),
    }
}

struct JoinAll<F: Future> {
    slots: Vec<Slot<F>>,
}

enum Slot<F: Future> {
    Pending(Pin<Box<F>>),
    Done(Option<F::Output>),
}

// The futures are pinned in their own boxes and the outputs are never pinned, so moving a
// `JoinAll` is harmless.
impl<F: Future> Unpin for JoinAll<F> {}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut pending = false;
        for slot in &mut this.slots {
            if let Slot::Pending(future) = slot {
                match future.as_mut().poll(cx) {
                    Poll::Ready(output) => *slot = Slot::Done(Some(output)),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            return Poll::Pending;
        }
        Poll::Ready(
            this.slots
                .iter_mut()
                .filter_map(|slot| match slot {
                    Slot::Done(output) => output.take(),
                    Slot::Pending(_) => None,
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    /// Drives a future to completion on this thread.
    fn block_on<F: Future>(future: F) -> F::Output {
        struct Unpark(std::thread::Thread);
        impl Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut future = Box::pin(future);
        loop {
            if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::park();
        }
    }

    /// Yields once, so that other groups get polled in between.
    async fn yield_now() {
        let mut yielded = false;
        std::future::poll_fn(|cx| {
            if yielded {
                Poll::Ready(())
            } else {
                yielded = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })
        .await
    }

    fn msg(id: &str, group: Option<&str>, body: &str) -> Message {
        Message {
            id: id.into(),
            group: group.map(str::to_owned),
            body: body.into(),
        }
    }

    /// Runs a batch whose bodies say what the handler makes of them; returns the ids handed
    /// back and the ids the handler saw, in the order it saw them.
    fn run(messages: Vec<Message>) -> (Vec<String>, Vec<String>) {
        let seen = RefCell::new(Vec::new());
        let failed = block_on(handle_batch(messages, |m| {
            let seen = &seen;
            async move {
                yield_now().await;
                seen.borrow_mut().push(m.id.clone());
                match m.body.as_str() {
                    "fail" => Handled::Failed,
                    "reject" => Handled::Rejected,
                    _ => Handled::Done,
                }
            }
        }));
        (failed, seen.into_inner())
    }

    #[test]
    fn a_group_is_handled_in_order() {
        let (failed, seen) = run(vec![
            msg("1", Some("E1"), "ok"),
            msg("2", Some("E1"), "ok"),
            msg("3", Some("E1"), "ok"),
        ]);
        assert!(failed.is_empty());
        assert_eq!(seen, ["1", "2", "3"]);
    }

    #[test]
    fn after_a_failure_the_rest_of_its_group_is_handed_back_unprocessed() {
        let (failed, seen) = run(vec![
            msg("1", Some("E1"), "ok"),
            msg("2", Some("E1"), "fail"),
            msg("3", Some("E1"), "ok"),
            msg("4", Some("E1"), "ok"),
        ]);
        assert_eq!(failed, ["2", "3", "4"]);
        assert_eq!(seen, ["1", "2"], "3 and 4 were never handled");
    }

    #[test]
    fn groups_are_independent_and_interleave() {
        let (failed, seen) = run(vec![
            msg("a1", Some("A"), "fail"),
            msg("b1", Some("B"), "ok"),
            msg("a2", Some("A"), "ok"),
            msg("b2", Some("B"), "ok"),
        ]);
        assert_eq!(failed, ["a1", "a2"]);
        assert!(!seen.contains(&"a2".to_owned()), "{seen:?}");
        let b: Vec<&String> = seen.iter().filter(|s| s.starts_with('b')).collect();
        assert_eq!(b, ["b1", "b2"], "B whole and in order despite A's failure");
        assert_eq!(seen.len(), 3);
    }

    #[test]
    fn a_rejected_message_is_acknowledged_and_its_group_goes_on() {
        let (failed, seen) = run(vec![
            msg("1", Some("E1"), "reject"),
            msg("2", Some("E1"), "ok"),
        ]);
        assert!(failed.is_empty());
        assert_eq!(seen, ["1", "2"]);
    }

    #[test]
    fn on_a_standard_queue_every_message_stands_alone() {
        let (mut failed, seen) = run(vec![
            msg("1", None, "fail"),
            msg("2", None, "ok"),
            msg("3", None, "fail"),
        ]);
        failed.sort();
        assert_eq!(failed, ["1", "3"]);
        assert_eq!(seen.len(), 3);
    }

    #[test]
    fn grouping_keeps_arrival_order_within_each_group() {
        let groups = fifo_groups(vec![
            msg("1", Some("B"), ""),
            msg("2", Some("A"), ""),
            msg("3", Some("B"), ""),
            msg("4", None, ""),
        ]);
        let ids: Vec<Vec<&str>> = groups
            .iter()
            .map(|g| g.iter().map(|m| m.id.as_str()).collect())
            .collect();
        assert_eq!(ids, [vec!["4"], vec!["2"], vec!["1", "3"]]);
    }

    #[test]
    fn an_empty_batch_hands_nothing_back() {
        assert_eq!(run(Vec::new()), (Vec::new(), Vec::new()));
    }
}
