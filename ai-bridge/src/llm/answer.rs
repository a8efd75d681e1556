//! What the language model must answer: its JSON schema, and the check of an answer against
//! the trip (through `doc_model`) before anything is written.

use doc_model::{EditOp, Trip};
use serde::Deserialize;

/// What the model must answer.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct LlmAnswer {
    /// The chat reply to the person who asked.
    pub reply: String,
    /// The proposal's one-line summary (empty with no ops).
    #[serde(default)]
    pub summary: String,
    /// Why, for the proposal.
    #[serde(default)]
    pub rationale: String,
    /// Edits to propose (none when the request needs no change).
    #[serde(default)]
    pub ops: Vec<EditOp>,
}

/// The JSON schema of [`LlmAnswer`], sent with every request.
pub fn answer_schema() -> serde_json::Value {
    let time =
        serde_json::json!({ "type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$" });
    let date = serde_json::json!({ "type": "string", "format": "date" });
    let expect = serde_json::json!({
        "type": "object",
        "properties": { "date": date, "start": time },
        "additionalProperties": false
    });
    serde_json::json!({
        "type": "object",
        "required": ["reply", "summary", "rationale", "ops"],
        "additionalProperties": false,
        "properties": {
            "reply": { "type": "string", "description": "the chat answer" },
            "summary": { "type": "string", "description": "one line; empty when ops is empty" },
            "rationale": { "type": "string", "description": "why each change" },
            "ops": { "type": "array", "items": { "oneOf": [
                { "type": "object", "required": ["op", "id", "date"], "additionalProperties": false,
                  "properties": { "op": { "const": "scheduleActivity" }, "id": { "type": "string" },
                    "date": date, "start": time, "durationMin": { "type": "integer", "minimum": 1, "maximum": 1440 },
                    "expect": expect } },
                { "type": "object", "required": ["op", "id"], "additionalProperties": false,
                  "properties": { "op": { "const": "unscheduleActivity" }, "id": { "type": "string" }, "expect": expect } },
                { "type": "object", "required": ["op", "id", "activity"], "additionalProperties": false,
                  "properties": { "op": { "const": "addActivity" }, "id": { "type": "string" },
                    "activity": { "type": "object", "required": ["title"], "properties": {
                      "title": { "type": "string" },
                      "kind": { "enum": ["sight", "meal", "transport", "lodging", "activity"] },
                      "date": date, "start": time, "durationMin": { "type": "integer" },
                      "cost": { "type": "integer", "minimum": 0 },
                      "costPer": { "enum": ["group", "family", "person"] },
                      "notes": { "type": "string" } } } } },
                { "type": "object", "required": ["op", "date", "title"], "additionalProperties": false,
                  "properties": { "op": { "const": "setDayTitle" }, "date": date, "title": { "type": "string" } } }
            ] } }
        }
    })
}

/// Parses a model's answer and checks its ops against the trip through `doc_model`.
pub fn parse_and_check(content: &str, trip: &Trip) -> Result<LlmAnswer, String> {
    let answer: LlmAnswer = serde_json::from_str(content.trim())
        .map_err(|e| format!("it is not the JSON asked for: {e}"))?;
    if answer.reply.trim().is_empty() {
        return Err("the reply is empty".into());
    }
    if !answer.ops.is_empty() && answer.summary.trim().is_empty() {
        return Err("a proposal needs a summary".into());
    }
    doc_model::check_ops(trip, &answer.ops)?;
    Ok(answer)
}
