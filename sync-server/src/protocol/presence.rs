//! Presence that cannot be forged: every awareness update is checked before it is applied
//! or relayed.
//!
//! - Each state must be JSON (or `null`, a removal) and at most [`MAX_STATE_BYTES`]; a
//!   message holds at most [`MAX_STATES_PER_MESSAGE`] states. y-websocket clients `JSON.parse`
//!   every state they receive: one that is not JSON would crash every one of them.
//! - A connection owns the client ids it introduced: an entry for an id another connection
//!   owns (a rewrite, or a removal) is refused.
//! - A state that claims to be the assistant (`user.isAssistant: true`) is accepted only from
//!   the assistant.
//! - With a verified identity (a token), the server writes it into each state the connection
//!   sends, as `"verified": {"sub", "role", "family"}`, replacing whatever the client put there:
//!   other clients can tell whose presence it is; stock clients ignore the extra field.
//!
//! Refused entries are dropped; the rest of the message still applies, and the refusals are
//! handed back for the sender to be told and the metrics to count.

use std::collections::HashMap;
use std::sync::Arc;

use yrs::sync::awareness::{AwarenessUpdate, AwarenessUpdateEntry};
use yrs::ClientID;

/// Largest awareness state accepted, in bytes of JSON.
pub const MAX_STATE_BYTES: usize = 8 * 1024;
/// Most states one awareness message may carry.
pub const MAX_STATES_PER_MESSAGE: usize = 64;

/// The JSON of a removed state.
const REMOVED: &str = "null";

/// Who a connection's presence belongs to, as the server verified it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// The token's `sub`; `None` on an open server.
    pub sub: Option<String>,
    /// The token's role.
    pub role: Option<String>,
    /// The token's family.
    pub family: Option<String>,
    /// The assistant (an assistant token, or the assistant inside the server).
    pub is_assistant: bool,
}

/// Why an awareness entry was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PresenceRefusal {
    /// The state is not JSON.
    NotJson,
    /// The state is over [`MAX_STATE_BYTES`].
    TooBig,
    /// The message carries more than [`MAX_STATES_PER_MESSAGE`] states.
    TooMany,
    /// The client id belongs to another connection.
    NotYours,
    /// The state claims to be the assistant, from a connection that is not.
    FakeAssistant,
}

impl PresenceRefusal {
    /// The `kind` it is counted under in `caravan_errors_total`.
    pub fn kind(self) -> &'static str {
        match self {
            PresenceRefusal::NotJson => "presence_not_json",
            PresenceRefusal::TooBig => "presence_too_big",
            PresenceRefusal::TooMany => "presence_too_many",
            PresenceRefusal::NotYours => "presence_not_yours",
            PresenceRefusal::FakeAssistant => "presence_fake_assistant",
        }
    }

    /// What the sender is told.
    pub fn reason(self) -> String {
        match self {
            PresenceRefusal::NotJson => "presence refused: a state is not JSON".into(),
            PresenceRefusal::TooBig => {
                format!("presence refused: a state is over {MAX_STATE_BYTES} bytes")
            }
            PresenceRefusal::TooMany => format!(
                "presence refused: more than {MAX_STATES_PER_MESSAGE} states in one message"
            ),
            PresenceRefusal::NotYours => {
                "presence refused: that client id belongs to another connection".into()
            }
            PresenceRefusal::FakeAssistant => {
                "presence refused: only the assistant may present itself as the assistant".into()
            }
        }
    }
}

/// Who owns a client id: the connection that introduced it, and its verified `sub`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    /// The connection (its [`super::DocConnection`]'s presence key).
    pub connection: u64,
    /// The connection's verified `sub`, if it has one.
    pub sub: Option<String>,
}

/// Who owns each client id of a room's presence.
pub type Owners = HashMap<ClientID, Owner>;

/// Checks `update` from the connection `owner` (verified as `identity`) against the room's
/// `owners`: returns the entries that may apply (states stamped with the identity) and the
/// refusals. Ownership is not changed here: the caller records the ids that applied.
///
/// An id owned by another connection with the same verified `sub` may be taken over: a client
/// that reconnects before the server noticed its old connection died keeps its presence. On an
/// open server (no identities) it waits until the old connection is dropped.
///
/// An entry for another connection's id at a clock the room already has (`clock_of`) is an
/// echo, dropped without a word: y-websocket clients send back every awareness change they
/// receive, and such an entry would change nothing anyway. Only one that would change the
/// state (a higher clock) is a forgery.
pub fn check(
    update: AwarenessUpdate,
    owner: u64,
    owners: &Owners,
    identity: &Identity,
    clock_of: impl Fn(ClientID) -> Option<u32>,
) -> (AwarenessUpdate, Vec<PresenceRefusal>) {
    let mut refused = Vec::new();
    if update.clients.len() > MAX_STATES_PER_MESSAGE {
        refused.push(PresenceRefusal::TooMany);
        return (empty(), refused);
    }
    let mut accepted = HashMap::with_capacity(update.clients.len());
    for (client, entry) in update.clients {
        let taken = owners
            .get(&client)
            .is_some_and(|o| o.connection != owner && (o.sub.is_none() || o.sub != identity.sub));
        if taken {
            if clock_of(client).is_none_or(|known| entry.clock > known) {
                refused.push(PresenceRefusal::NotYours);
            }
            continue;
        }
        if entry.json.as_ref() == REMOVED {
            accepted.insert(client, entry);
            continue;
        }
        if entry.json.len() > MAX_STATE_BYTES {
            refused.push(PresenceRefusal::TooBig);
            continue;
        }
        let Ok(mut state) = serde_json::from_str::<serde_json::Value>(&entry.json) else {
            refused.push(PresenceRefusal::NotJson);
            continue;
        };
        if !identity.is_assistant && claims_assistant(&state) {
            refused.push(PresenceRefusal::FakeAssistant);
            continue;
        }
        let json = match stamp(&mut state, identity) {
            true => Arc::from(state.to_string()),
            false => entry.json,
        };
        accepted.insert(
            client,
            AwarenessUpdateEntry {
                clock: entry.clock,
                json,
            },
        );
    }
    (AwarenessUpdate { clients: accepted }, refused)
}

/// Whether `state` is what a stock client can read: JSON, or `null` (a removal). Every state
/// the server relays passes (`check` parses each one), which the fuzz targets assert.
pub fn is_json(state: &str) -> bool {
    serde_json::from_str::<serde::de::IgnoredAny>(state).is_ok()
}

fn empty() -> AwarenessUpdate {
    AwarenessUpdate {
        clients: HashMap::new(),
    }
}

/// `user.isAssistant` is true (y-websocket apps put the user under `user`), or a top-level
/// `isAssistant` is.
fn claims_assistant(state: &serde_json::Value) -> bool {
    let truthy =
        |v: Option<&serde_json::Value>| v.is_some_and(|v| v == &serde_json::Value::Bool(true));
    truthy(state.pointer("/user/isAssistant")) || truthy(state.get("isAssistant"))
}

/// Writes the verified identity into an object state (replacing a client's own `verified`);
/// a state that is not an object, or a connection without identity, is left as it is
/// (`false`), except that a forged `verified` is removed.
fn stamp(state: &mut serde_json::Value, identity: &Identity) -> bool {
    let Some(object) = state.as_object_mut() else {
        return false;
    };
    let verified = identity.sub.as_ref().map(|sub| {
        serde_json::json!({
            "sub": sub,
            "role": identity.role,
            "family": identity.family,
        })
    });
    match verified {
        Some(verified) => {
            object.insert("verified".into(), verified);
            true
        }
        None => object.remove("verified").is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(entries: &[(u64, u32, &str)]) -> AwarenessUpdate {
        AwarenessUpdate {
            clients: entries
                .iter()
                .map(|&(client, clock, json)| {
                    (
                        ClientID::new(client),
                        AwarenessUpdateEntry {
                            clock,
                            json: Arc::from(json),
                        },
                    )
                })
                .collect(),
        }
    }

    fn id(client: u64) -> ClientID {
        ClientID::new(client)
    }

    #[test]
    fn states_that_are_not_json_too_big_or_too_many_are_refused() {
        let nobody = Identity::default();
        let (ok, refused) = check(
            update(&[(1, 1, "{not json")]),
            7,
            &Owners::new(),
            &nobody,
            |_| None,
        );
        assert!(ok.clients.is_empty());
        assert_eq!(refused, vec![PresenceRefusal::NotJson]);
        let big = format!("{{\"x\":\"{}\"}}", "a".repeat(MAX_STATE_BYTES));
        let (ok, refused) = check(update(&[(1, 1, &big)]), 7, &Owners::new(), &nobody, |_| {
            None
        });
        assert!(ok.clients.is_empty());
        assert_eq!(refused, vec![PresenceRefusal::TooBig]);
        let many: Vec<(u64, u32, &str)> = (0..65).map(|i| (i, 1, "{}")).collect();
        let (ok, refused) = check(update(&many), 7, &Owners::new(), &nobody, |_| None);
        assert!(ok.clients.is_empty());
        assert_eq!(refused, vec![PresenceRefusal::TooMany]);
        // A removal and a good state pass.
        let (ok, refused) = check(
            update(&[(1, 2, "null"), (2, 1, "{\"a\":1}")]),
            7,
            &Owners::new(),
            &nobody,
            |_| None,
        );
        assert_eq!(ok.clients.len(), 2);
        assert!(refused.is_empty());
    }

    #[test]
    fn another_connection_s_id_cannot_be_rewritten_or_removed() {
        let owner = |connection, sub: Option<&str>| Owner {
            connection,
            sub: sub.map(str::to_owned),
        };
        let owners: Owners = [(id(1), owner(7, None)), (id(2), owner(5, Some("ana")))]
            .into_iter()
            .collect();
        let nobody = Identity::default();
        for json in ["{\"user\":{\"name\":\"Mallory\"}}", "null"] {
            let (ok, refused) = check(update(&[(1, 99, json)]), 8, &owners, &nobody, |_| Some(5));
            assert!(ok.clients.is_empty(), "{json}");
            assert_eq!(refused, vec![PresenceRefusal::NotYours]);
        }
        // An echo (a clock the room has) is dropped without a refusal.
        let (ok, refused) = check(update(&[(1, 5, "{}")]), 8, &owners, &nobody, |_| Some(5));
        assert!(ok.clients.is_empty() && refused.is_empty());
        // Its owner may.
        let (ok, _) = check(update(&[(1, 2, "{}")]), 7, &owners, &nobody, |_| Some(5));
        assert_eq!(ok.clients.len(), 1);
        // Ana, reconnected on a new connection before the old one was dropped, keeps her id;
        // Bea may not take it.
        let verified = |sub: &str| Identity {
            sub: Some(sub.into()),
            ..Identity::default()
        };
        let (ok, _) = check(
            update(&[(2, 9, "{}")]),
            8,
            &owners,
            &verified("ana"),
            |_| Some(5),
        );
        assert_eq!(ok.clients.len(), 1);
        let (ok, refused) = check(
            update(&[(2, 9, "{}")]),
            8,
            &owners,
            &verified("bea"),
            |_| Some(5),
        );
        assert!(ok.clients.is_empty());
        assert_eq!(refused, vec![PresenceRefusal::NotYours]);
    }

    #[test]
    fn only_the_assistant_may_look_like_the_assistant() {
        let state = "{\"user\":{\"name\":\"Assistant\",\"isAssistant\":true}}";
        let editor = Identity {
            sub: Some("ana".into()),
            role: Some("editor".into()),
            ..Identity::default()
        };
        let (ok, refused) = check(update(&[(1, 1, state)]), 7, &Owners::new(), &editor, |_| {
            None
        });
        assert!(ok.clients.is_empty());
        assert_eq!(refused, vec![PresenceRefusal::FakeAssistant]);
        let assistant = Identity {
            is_assistant: true,
            ..Identity::default()
        };
        let (ok, refused) = check(
            update(&[(1, 1, state)]),
            7,
            &Owners::new(),
            &assistant,
            |_| None,
        );
        assert_eq!(ok.clients.len(), 1);
        assert!(refused.is_empty());
    }

    #[test]
    fn the_verified_identity_is_written_into_each_state_and_cannot_be_forged() {
        let ana = Identity {
            sub: Some("ana".into()),
            role: Some("editor".into()),
            family: Some("okafor".into()),
            is_assistant: false,
        };
        let forged = "{\"user\":{\"name\":\"Ana\"},\"verified\":{\"sub\":\"grandma\"}}";
        let (ok, _) = check(update(&[(1, 1, forged)]), 7, &Owners::new(), &ana, |_| None);
        let state: serde_json::Value = serde_json::from_str(&ok.clients[&id(1)].json).unwrap();
        assert_eq!(state["verified"]["sub"], "ana");
        assert_eq!(state["verified"]["family"], "okafor");
        assert_eq!(state["user"]["name"], "Ana");
        // Without tokens nobody is verified: a claimed `verified` is removed.
        let (ok, _) = check(
            update(&[(1, 1, forged)]),
            7,
            &Owners::new(),
            &Identity::default(),
            |_| None,
        );
        let state: serde_json::Value = serde_json::from_str(&ok.clients[&id(1)].json).unwrap();
        assert!(state.get("verified").is_none());
    }
}
