//! Matching replies to actions by `ActionID`, including list replies, without ever blocking the reader.
//!
//! The reader task hands every message to [`Router::route`]: replies and list items go to the waiting caller
//! through a oneshot channel; everything else comes back to be published as an event.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::oneshot;

use crate::client::Error;
use crate::message::{Message, MessageKind};

/// A reply to an action.
#[derive(Clone, Debug)]
pub struct ListReply {
    /// The `Response:` message.
    pub response: Message,
    /// For list actions, the list items (events with the action's ActionID); for `FAXStats`, the stats event.
    pub events: Vec<Message>,
    /// For list actions, the completion event (`EventList: Complete`).
    pub complete: Option<Message>,
}

/// What a caller waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expect {
    /// One response.
    Response,
    /// A response, then events until `EventList: Complete`.
    List,
    /// A response, then one event with this name (e.g. `FAXStats event will follow`).
    FollowedBy(&'static str),
}

struct Pending {
    action: String,
    expect: Expect,
    response: Option<Message>,
    events: Vec<Message>,
    tx: oneshot::Sender<Result<ListReply, Error>>,
}

/// Pending actions of one connection.
#[derive(Default)]
pub(crate) struct Router {
    pending: Mutex<HashMap<String, Pending>>,
}

fn is_error(m: &Message) -> bool {
    m.get("Response")
        .is_some_and(|r| r.eq_ignore_ascii_case("Error"))
}

impl Router {
    /// Registers a caller waiting for the reply to `action_id`.
    pub(crate) fn register(
        &self,
        action_id: String,
        action: &str,
        expect: Expect,
    ) -> oneshot::Receiver<Result<ListReply, Error>> {
        let (tx, rx) = oneshot::channel();
        let p = Pending {
            action: action.to_owned(),
            expect,
            response: None,
            events: Vec::new(),
            tx,
        };
        self.lock().insert(action_id, p);
        rx
    }

    /// Forgets a caller (timed out or could not send).
    pub(crate) fn cancel(&self, action_id: &str) {
        self.lock().remove(action_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        // A panic while holding this lock cannot leave the map inconsistent (single inserts/removes), so a poisoned
        // lock is still usable.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Delivers `msg` to its waiting caller, or returns it if it is not a reply (so it is published as an event).
    pub(crate) fn route(&self, msg: Message) -> Option<Message> {
        let Some(id) = msg.action_id() else {
            return Some(msg);
        };
        let mut map = self.lock();
        let Some(p) = map.get_mut(id) else {
            return Some(msg);
        };
        match msg.kind() {
            MessageKind::Response(_) | MessageKind::Unknown if p.response.is_none() => {
                if is_error(&msg) || p.expect == Expect::Response {
                    let id = id.to_owned();
                    if let Some(p) = map.remove(&id) {
                        let result = if is_error(&msg) {
                            Err(Error::ActionFailed {
                                action: p.action,
                                message: msg.get("Message").unwrap_or("").to_owned(),
                            })
                        } else {
                            Ok(ListReply {
                                response: msg,
                                events: Vec::new(),
                                complete: None,
                            })
                        };
                        let _ = p.tx.send(result);
                    }
                } else {
                    p.response = Some(msg);
                }
                None
            }
            MessageKind::Event(name) => match p.expect {
                Expect::Response => Some(msg),
                Expect::List => {
                    let done = msg
                        .get("EventList")
                        .is_some_and(|v| v.eq_ignore_ascii_case("Complete"));
                    if done {
                        let id = id.to_owned();
                        if let Some(p) = map.remove(&id) {
                            let reply = ListReply {
                                response: p.response.unwrap_or_else(|| {
                                    Message::from_pairs([("Response", "Success")])
                                }),
                                events: p.events,
                                complete: Some(msg),
                            };
                            let _ = p.tx.send(Ok(reply));
                        }
                    } else {
                        p.events.push(msg);
                    }
                    None
                }
                Expect::FollowedBy(want) => {
                    if name.eq_ignore_ascii_case(want) {
                        let id = id.to_owned();
                        if let Some(p) = map.remove(&id) {
                            let reply = ListReply {
                                response: p.response.unwrap_or_else(|| {
                                    Message::from_pairs([("Response", "Success")])
                                }),
                                events: vec![msg],
                                complete: None,
                            };
                            let _ = p.tx.send(Ok(reply));
                        }
                        None
                    } else {
                        Some(msg)
                    }
                }
            },
            // A second response with the same ActionID: nothing waits for it.
            _ => None,
        }
    }

    /// Fails every waiting caller (the connection is gone).
    pub(crate) fn fail_all(&self) {
        for (_, p) in self.lock().drain() {
            let _ = p.tx.send(Err(Error::Disconnected));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn list_reply_collects_items_and_lets_unrelated_events_through() {
        let r = Router::default();
        let rx = r.register("l-1".into(), "FAXSessions", Expect::List);
        assert!(
            r.route(Message::from_pairs([
                ("Response", "Success"),
                ("ActionID", "l-1"),
                ("EventList", "start"),
            ]))
            .is_none()
        );
        let unrelated = Message::from_pairs([("Event", "Newchannel"), ("Uniqueid", "1")]);
        assert!(r.route(unrelated).is_some());
        assert!(
            r.route(Message::from_pairs([
                ("Event", "FAXSessionsEntry"),
                ("ActionID", "l-1"),
                ("SessionNumber", "7"),
            ]))
            .is_none()
        );
        assert!(
            r.route(Message::from_pairs([
                ("Event", "FAXSessionsComplete"),
                ("ActionID", "l-1"),
                ("EventList", "Complete"),
                ("ListItems", "1"),
            ]))
            .is_none()
        );
        let reply = rx.await.unwrap().unwrap();
        assert_eq!(reply.events.len(), 1);
        assert_eq!(reply.events[0].get("SessionNumber"), Some("7"));
        assert_eq!(reply.complete.unwrap().get("ListItems"), Some("1"));
    }

    #[tokio::test]
    async fn error_response_and_disconnect_fail_the_caller() {
        let r = Router::default();
        let rx = r.register("a".into(), "Originate", Expect::Response);
        let rx2 = r.register("b".into(), "Ping", Expect::Response);
        r.route(Message::from_pairs([
            ("ActionID", "a"),
            ("Response", "Error"),
            ("Message", "Originate failed"),
        ]));
        assert!(matches!(
            rx.await.unwrap(),
            Err(Error::ActionFailed { ref message, .. }) if message == "Originate failed"
        ));
        r.fail_all();
        assert!(matches!(rx2.await.unwrap(), Err(Error::Disconnected)));
    }

    #[tokio::test]
    async fn originate_response_after_the_reply_is_published() {
        let r = Router::default();
        let rx = r.register("o".into(), "Originate", Expect::Response);
        r.route(Message::from_pairs([
            ("Response", "Success"),
            ("ActionID", "o"),
        ]));
        rx.await.unwrap().unwrap();
        let ev = Message::from_pairs([
            ("Event", "OriginateResponse"),
            ("ActionID", "o"),
            ("Response", "Success"),
        ]);
        assert!(r.route(ev).is_some());
    }
}
