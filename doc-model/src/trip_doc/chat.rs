//! The trip's chat.

use yrs::{Array, Transact};

use super::TripDoc;
use crate::convert::to_any;
use crate::types::ChatMessage;
use crate::validate::{self, ModelError};

impl TripDoc {
    /// Posts a chat message.
    pub fn post_chat(&self, origin: &str, message: &ChatMessage) -> Result<(), ModelError> {
        validate::id(&message.id)?;
        validate::name("chat author", &message.author)?;
        if message.text.trim().is_empty() {
            return Err(ModelError::Empty("chat message"));
        }
        validate::text("chat message", &message.text, validate::MAX_TEXT_CHARS)?;
        if let Some(reply_to) = &message.reply_to {
            validate::text("chat replyTo", reply_to, validate::MAX_NAME_CHARS)?;
        }
        let mut txn = self.doc.transact_mut_with(origin);
        self.meta_in(&txn)?;
        self.chat.push_back(&mut txn, to_any(message));
        Ok(())
    }
}
