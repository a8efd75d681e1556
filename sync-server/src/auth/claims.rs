//! What a token says: who, for which trip, in which role, until when.

use persistence::TripId;
use serde::{Deserialize, Serialize};

/// What a participant may do in a trip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads, writes, and may delete the trip.
    Owner,
    /// Reads and writes.
    Editor,
    /// Reads and sees presence; every change it sends is refused ("permission denied").
    Viewer,
    /// The AI assistant: reads and writes like an editor; with trip `*`, also follows the
    /// trip event feed.
    Assistant,
}

impl Role {
    /// Whether this role may change a trip's document.
    pub fn can_write(self) -> bool {
        !matches!(self, Role::Viewer)
    }

    /// The role's name as in tokens.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
            Role::Assistant => "assistant",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        match s {
            "owner" => Ok(Role::Owner),
            "editor" => Ok(Role::Editor),
            "viewer" => Ok(Role::Viewer),
            "assistant" => Ok(Role::Assistant),
            other => Err(format!(
                "unknown role {other:?}: expected owner, editor, viewer or assistant"
            )),
        }
    }
}

/// The verified claims of a token (JWT).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Who: the user id of the app that minted the token.
    pub sub: String,
    /// The trip the token opens, or `*` for every trip.
    pub trip: String,
    /// What the holder may do.
    pub role: Role,
    /// The family the user belongs to, if the app says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// Expiry, seconds since the Unix epoch (required).
    pub exp: u64,
    /// Not valid before, seconds since the Unix epoch (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
}

impl Claims {
    /// Whether the token covers `trip`.
    pub fn covers(&self, trip: &TripId) -> bool {
        self.trip == "*" || self.trip == trip.as_str()
    }

    /// Whether the token covers every trip.
    pub fn is_global(&self) -> bool {
        self.trip == "*"
    }
}
