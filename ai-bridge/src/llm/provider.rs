//! Chat-completions providers, through reqwest: any OpenAI-compatible endpoint (OpenAI, a
//! local server) and Azure OpenAI (its URL shape and `api-key` header).

use std::time::Duration;

use serde::Serialize;
use thiserror::Error;

/// Which API shape a provider speaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProviderKind {
    /// `POST {base}/chat/completions`, `Authorization: Bearer KEY`.
    OpenAiCompatible,
    /// `POST {endpoint}/openai/deployments/{deployment}/chat/completions?api-version=V`,
    /// `api-key: KEY`.
    Azure {
        /// The deployment (Azure's name for a model).
        deployment: String,
        /// The API version.
        api_version: String,
    },
}

/// One configured model endpoint.
#[derive(Clone, Debug)]
pub struct ProviderConfig {
    /// A name for logs and metrics (`primary`, `secondary`).
    pub name: String,
    /// API shape.
    pub kind: ProviderKind,
    /// Base URL (OpenAI: `https://api.openai.com/v1`; Azure: the resource endpoint).
    pub base_url: String,
    /// The key, from the environment (never from a document).
    pub api_key: String,
    /// The model name sent in the body (ignored by Azure, which names it by deployment).
    pub model: String,
    /// How long a request may take.
    pub timeout: Duration,
    /// Estimated price in US dollars per 1,000 tokens, for the cost metric.
    pub usd_per_1k_tokens: f64,
}

/// A chat-completions request: messages plus the JSON schema the answer must match.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ChatRequest {
    /// `[{role, content}]`.
    pub messages: Vec<Message>,
    /// The schema of the answer.
    pub schema: serde_json::Value,
    /// Most tokens of the answer.
    pub max_tokens: u32,
}

/// One message.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, Hash)]
pub struct Message {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// Its text.
    pub content: String,
}

/// What a provider answered.
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    /// The answer's text (JSON, if the model obeyed).
    pub content: String,
    /// Tokens of the prompt, as the provider counted them.
    pub prompt_tokens: u64,
    /// Tokens of the answer.
    pub completion_tokens: u64,
}

/// Why a provider gave no answer.
#[derive(Clone, Debug, Error, PartialEq)]
pub enum ProviderError {
    /// The provider said to slow down (HTTP 429).
    #[error("rate limited by the provider")]
    RateLimited,
    /// Any other HTTP error.
    #[error("the provider answered HTTP {0}")]
    Http(u16),
    /// No answer in time.
    #[error("the provider did not answer in time")]
    Timeout,
    /// Could not reach it.
    #[error("the provider is unreachable: {0}")]
    Network(String),
    /// An answer that is not a chat completion.
    #[error("the provider's answer is not a chat completion: {0}")]
    BadResponse(String),
}

/// Sends `request` to the provider of `config`.
pub async fn complete(
    http: &reqwest::Client,
    config: &ProviderConfig,
    request: &ChatRequest,
) -> Result<Completion, ProviderError> {
    let base = config.base_url.trim_end_matches('/');
    let body = serde_json::json!({
        "model": config.model,
        "messages": request.messages,
        "max_tokens": request.max_tokens,
        "temperature": 0.2,
        "response_format": {
            "type": "json_schema",
            "json_schema": { "name": "trip_proposal", "strict": true, "schema": request.schema },
        },
    });
    let builder = match &config.kind {
        ProviderKind::OpenAiCompatible => http
            .post(format!("{base}/chat/completions"))
            .bearer_auth(&config.api_key),
        ProviderKind::Azure {
            deployment,
            api_version,
        } => http
            .post(format!(
                "{base}/openai/deployments/{deployment}/chat/completions?api-version={api_version}"
            ))
            .header("api-key", &config.api_key),
    };
    let response = builder
        .timeout(config.timeout)
        .json(&body)
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                ProviderError::Timeout
            } else {
                ProviderError::Network(e.to_string())
            }
        })?;
    let status = response.status().as_u16();
    if status == 429 {
        return Err(ProviderError::RateLimited);
    }
    if !(200..300).contains(&status) {
        return Err(ProviderError::Http(status));
    }
    let answer: serde_json::Value = response.json().await.map_err(|e| {
        if e.is_timeout() {
            ProviderError::Timeout
        } else {
            ProviderError::BadResponse(e.to_string())
        }
    })?;
    let content = answer
        .pointer("/choices/0/message/content")
        .and_then(|c| c.as_str())
        .ok_or_else(|| ProviderError::BadResponse("no choices[0].message.content".into()))?
        .to_owned();
    let tokens = |key: &str| {
        answer
            .pointer(&format!("/usage/{key}"))
            .and_then(|v| v.as_u64())
            .unwrap_or(0)
    };
    Ok(Completion {
        content,
        prompt_tokens: tokens("prompt_tokens"),
        completion_tokens: tokens("completion_tokens"),
    })
}
