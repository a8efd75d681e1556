//! Who the assistant is in a trip: the member id it writes as, which every reaction records
//! (a message's `author`, a proposal's `author`) and the server's rights recognise.

/// The member id the assistant writes as.
pub const ASSISTANT: &str = "assistant";
