//! The OpenAI API's JSON shapes: the request body of `/v1/chat/completions` and
//! `/v1/completions`, and the objects and stream chunks they answer with.
//!
//! One request type serves both endpoints (they share every field but the prompt), so a wrong
//! type is reported with the field's path whichever endpoint it came to. Unknown fields are
//! ignored, as llama-server does: clients send many that do not concern a local model.

use serde::{Deserialize, Serialize};

use crate::engine::protocol::{TokenLogprobs, TokenProb};

/// The body of a chat completion (`messages`) or a completion (`prompt`).
#[derive(Debug, Default, Deserialize)]
pub struct CompletionRequest {
    pub model: Option<String>,
    pub messages: Option<Vec<RequestMessage>>,
    pub prompt: Option<PromptText>,
    #[serde(default)]
    pub stream: bool,
    pub stream_options: Option<StreamOptions>,
    pub max_tokens: Option<u32>,
    pub max_completion_tokens: Option<u32>,
    pub temperature: Option<f32>,
    pub top_p: Option<f32>,
    pub presence_penalty: Option<f32>,
    pub frequency_penalty: Option<f32>,
    pub seed: Option<u64>,
    pub stop: Option<StopText>,
    /// Chat: `true` to report log-probabilities (`top_logprobs` says how many alternatives);
    /// completions: the number of alternatives.
    pub logprobs: Option<LogprobsField>,
    pub top_logprobs: Option<u32>,
    pub n: Option<u32>,
    pub tools: Option<serde_json::Value>,
    pub functions: Option<serde_json::Value>,
    pub response_format: Option<ResponseFormat>,
    // llama.cpp's extensions.
    pub top_k: Option<u32>,
    pub min_p: Option<f32>,
    pub repeat_penalty: Option<f32>,
}

/// A chat message; `developer` is the newer name of `system`.
#[derive(Debug, Deserialize)]
pub struct RequestMessage {
    pub role: MessageRole,
    pub content: Option<MessageContent>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageRole {
    System,
    Developer,
    User,
    Assistant,
    Tool,
    Function,
}

/// A message's content: a string, or an array of parts of which only text is understood.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum MessageContent {
    Text(String),
    Parts(Vec<ContentPart>),
}

#[derive(Debug, Deserialize)]
pub struct ContentPart {
    #[serde(rename = "type")]
    pub kind: String,
    pub text: Option<String>,
}

/// `prompt`: a string, or an array holding one string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum PromptText {
    One(String),
    Many(Vec<String>),
}

/// `stop`: a string or a list of strings.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum StopText {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
pub enum LogprobsField {
    Flag(bool),
    Count(u32),
}

#[derive(Debug, Default, Deserialize)]
pub struct StreamOptions {
    #[serde(default)]
    pub include_usage: bool,
}

#[derive(Debug, Deserialize)]
pub struct ResponseFormat {
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub prompt_tokens: usize,
    pub completion_tokens: usize,
    pub total_tokens: usize,
}

impl Usage {
    pub fn new(prompt_tokens: usize, completion_tokens: usize) -> Self {
        Self { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens }
    }
}

/// Why a choice ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FinishReason {
    /// End of text or a stop string.
    Stop,
    /// The token limit or the context was reached, or the server cut the reply short.
    Length,
}

/// One entry of a chat choice's `logprobs.content`.
#[derive(Debug, Clone, Serialize)]
pub struct ChatLogprob {
    pub token: String,
    pub logprob: f32,
    pub bytes: Vec<u8>,
    pub top_logprobs: Vec<ChatTopLogprob>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChatTopLogprob {
    pub token: String,
    pub logprob: f32,
    pub bytes: Vec<u8>,
}

impl From<&TokenProb> for ChatTopLogprob {
    fn from(p: &TokenProb) -> Self {
        Self { token: p.text.clone(), logprob: p.logprob, bytes: p.bytes.clone() }
    }
}

impl From<&TokenLogprobs> for ChatLogprob {
    fn from(lp: &TokenLogprobs) -> Self {
        let chosen = ChatTopLogprob::from(&lp.chosen);
        Self {
            token: chosen.token,
            logprob: chosen.logprob,
            bytes: chosen.bytes,
            top_logprobs: lp.top.iter().map(ChatTopLogprob::from).collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ChatLogprobs {
    pub content: Vec<ChatLogprob>,
}

/// The legacy completions' `logprobs` object.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CompletionLogprobs {
    pub tokens: Vec<String>,
    pub token_logprobs: Vec<f32>,
    pub top_logprobs: Vec<serde_json::Map<String, serde_json::Value>>,
    pub text_offset: Vec<usize>,
}

impl CompletionLogprobs {
    /// The entries of `logprobs`, whose text starts at byte `offset` of the completion.
    pub fn of(logprobs: &[TokenLogprobs], mut offset: usize) -> Self {
        let mut out = Self::default();
        for lp in logprobs {
            out.tokens.push(lp.chosen.text.clone());
            out.token_logprobs.push(lp.chosen.logprob);
            out.top_logprobs.push(lp.top.iter().map(|p| (p.text.clone(), serde_json::json!(p.logprob))).collect());
            out.text_offset.push(offset);
            offset += lp.chosen.bytes.len();
        }
        out
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AssistantMessage {
    pub role: &'static str,
    pub content: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChatChoice {
    pub index: u32,
    pub message: AssistantMessage,
    pub logprobs: Option<ChatLogprobs>,
    pub finish_reason: FinishReason,
}

/// `chat.completion`.
#[derive(Debug, Clone, Serialize)]
pub struct ChatCompletion {
    pub id: String,
    pub object: &'static str,
    pub created: u64,
    pub model: String,
    pub choices: Vec<ChatChoice>,
    pub usage: Usage,
}

#[derive(Debug, Clone, Serialize)]
pub struct CompletionChoice {
    pub index: u32,
    pub text: String,
    pub logprobs: Option<CompletionLogprobs>,
    pub finish_reason: Option<FinishReason>,
}

/// `text_completion`, whole or as a stream chunk.
#[derive(Debug, Clone, Serialize)]
pub struct Completion {
    pub id: String,
    pub object: &'static str,
    pub created: u64,
    pub model: String,
    pub choices: Vec<CompletionChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ChatDelta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChatChunkChoice {
    pub index: u32,
    pub delta: ChatDelta,
    pub logprobs: Option<ChatLogprobs>,
    pub finish_reason: Option<FinishReason>,
}

/// `chat.completion.chunk`. With `include_usage`, every chunk has `usage` (null but in the
/// last, which has no choices), as OpenAI sends it.
#[derive(Debug, Clone, Serialize)]
pub struct ChatChunk {
    pub id: String,
    pub object: &'static str,
    pub created: u64,
    pub model: String,
    pub choices: Vec<ChatChunkChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Option<Usage>>,
}

/// An entry of `GET /v1/models`.
#[derive(Debug, Clone, Serialize)]
pub struct ModelObject {
    pub id: String,
    pub object: &'static str,
    pub created: u64,
    pub owned_by: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelList {
    pub object: &'static str,
    pub data: Vec<ModelObject>,
}
