//! Conversions between yrs values and JSON.

use serde::Serialize;
use serde_json::Value;
use yrs::types::ToJson;
use yrs::{Any, Array, GetString, Map, Out, ReadTxn};

/// A yrs value as JSON: shared maps and arrays recursively, texts as strings.
pub fn out_to_json<T: ReadTxn>(txn: &T, out: Out) -> Value {
    match out {
        Out::Any(any) => any_to_json(&any),
        Out::YText(text) => Value::String(text.get_string(txn)),
        Out::YMap(map) => Value::Object(
            map.iter(txn)
                .map(|(k, v)| (k.to_string(), out_to_json(txn, v)))
                .collect(),
        ),
        Out::YArray(array) => Value::Array(array.iter(txn).map(|v| out_to_json(txn, v)).collect()),
        other => any_to_json(&other.to_json(txn)),
    }
}

/// A plain yrs value as JSON.
pub fn any_to_json(any: &Any) -> Value {
    serde_json::to_value(any).unwrap_or(Value::Null)
}

/// A serializable value as a plain yrs value (integers stay integers, as Yjs writes them).
pub fn to_any<T: Serialize>(value: &T) -> Any {
    let json = serde_json::to_value(value).expect("model values serialize to JSON");
    serde_json::from_value(json).expect("JSON converts to a yrs value")
}
