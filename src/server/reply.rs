//! A generation as an OpenAI response: one JSON object, or server-sent events exactly as OpenAI
//! streams them (a first chunk with the role, content chunks, a chunk with `finish_reason`, with
//! `include_usage` a chunk of usage, then `data: [DONE]`).

use std::convert::Infallible;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::stream::{self, StreamExt};

use crate::engine::protocol::TokenLogprobs;

use super::generation::{Generation, Output};
use super::openai::{
    AssistantMessage, ChatChoice, ChatChunk, ChatChunkChoice, ChatCompletion, ChatDelta, ChatLogprobs, Completion,
    CompletionChoice, CompletionLogprobs, FinishReason, Usage,
};
use super::request::Endpoint;

/// What every object of one response shares.
pub struct ReplyMeta {
    pub id: String,
    pub created: u64,
    pub model: String,
    pub endpoint: Endpoint,
    pub logprobs: bool,
    pub include_usage: bool,
}

impl ReplyMeta {
    fn chat_logprobs(&self, logprobs: &[TokenLogprobs]) -> Option<ChatLogprobs> {
        self.logprobs.then(|| ChatLogprobs { content: logprobs.iter().map(Into::into).collect() })
    }

    fn completion_logprobs(&self, logprobs: &[TokenLogprobs], offset: usize) -> Option<CompletionLogprobs> {
        self.logprobs.then(|| CompletionLogprobs::of(logprobs, offset))
    }

    fn chat_chunk(&self, delta: ChatDelta, logprobs: Option<ChatLogprobs>, finish: Option<FinishReason>) -> ChatChunk {
        ChatChunk {
            id: self.id.clone(),
            object: "chat.completion.chunk",
            created: self.created,
            model: self.model.clone(),
            choices: vec![ChatChunkChoice { index: 0, delta, logprobs, finish_reason: finish }],
            usage: self.include_usage.then_some(None),
        }
    }

    fn completion(&self, choices: Vec<CompletionChoice>, usage: Option<Usage>) -> Completion {
        Completion {
            id: self.id.clone(),
            object: "text_completion",
            created: self.created,
            model: self.model.clone(),
            choices,
            usage,
        }
    }
}

/// Runs the generation to its end and answers with the whole object.
pub async fn collect(mut generation: Generation, meta: ReplyMeta) -> Response {
    let (mut text, mut logprobs) = (String::new(), Vec::new());
    let (finish, usage) = loop {
        match generation.next().await {
            Some(Ok(Output::Piece { text: piece, logprobs: lp })) => {
                text.push_str(&piece);
                logprobs.extend(lp);
            }
            Some(Ok(Output::End { finish, usage })) => break (finish, usage),
            Some(Err(e)) => return e.into_response(),
            None => unreachable!("a generation yields its end before it stops"),
        }
    };
    match meta.endpoint {
        Endpoint::Chat => Json(ChatCompletion {
            id: meta.id.clone(),
            object: "chat.completion",
            created: meta.created,
            model: meta.model.clone(),
            choices: vec![ChatChoice {
                index: 0,
                logprobs: meta.chat_logprobs(&logprobs),
                message: AssistantMessage { role: "assistant", content: text },
                finish_reason: finish,
            }],
            usage,
        })
        .into_response(),
        Endpoint::Completion => {
            let choice = CompletionChoice {
                index: 0,
                logprobs: meta.completion_logprobs(&logprobs, 0),
                text,
                finish_reason: Some(finish),
            };
            Json(meta.completion(vec![choice], Some(usage))).into_response()
        }
    }
}

/// Where a stream is.
struct StreamState {
    generation: Generation,
    meta: ReplyMeta,
    started: bool,
    /// Bytes of completion text sent, for the completions' `text_offset`.
    sent_bytes: usize,
    done: bool,
}

/// Streams the generation as server-sent events; dropping the stream (the client went away)
/// drops the generation, which cancels it.
pub fn stream(generation: Generation, meta: ReplyMeta) -> Response {
    let state = StreamState { generation, meta, started: false, sent_bytes: 0, done: false };
    let events = stream::unfold(state, |mut s| async move {
        if s.done {
            return None;
        }
        let events = s.next_events().await;
        Some((stream::iter(events.into_iter().map(Ok::<Event, Infallible>)), s))
    })
    .flatten();
    Sse::new(events).keep_alive(KeepAlive::default()).into_response()
}

fn json_event(value: &impl serde::Serialize) -> Event {
    Event::default().data(serde_json::to_string(value).unwrap_or_default())
}

impl StreamState {
    async fn next_events(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        if !self.started && self.meta.endpoint == Endpoint::Chat {
            let delta = ChatDelta { role: Some("assistant"), content: Some(String::new()) };
            events.push(json_event(&self.meta.chat_chunk(delta, None, None)));
        }
        self.started = true;
        match self.generation.next().await {
            Some(Ok(Output::Piece { text, logprobs })) => events.push(self.piece(text, &logprobs, None)),
            Some(Ok(Output::End { finish, usage })) => {
                events.push(self.piece(String::new(), &[], Some(finish)));
                if self.meta.include_usage {
                    events.push(self.usage(usage));
                }
                events.push(Event::default().data("[DONE]"));
                self.done = true;
            }
            Some(Err(e)) => {
                events.push(json_event(&e.body()));
                self.done = true;
            }
            None => self.done = true,
        }
        events
    }

    fn piece(&mut self, text: String, logprobs: &[TokenLogprobs], finish: Option<FinishReason>) -> Event {
        let meta = &self.meta;
        match meta.endpoint {
            Endpoint::Chat => {
                let content = finish.is_none().then_some(text);
                let delta = ChatDelta { role: None, content };
                json_event(&meta.chat_chunk(delta, meta.chat_logprobs(logprobs).filter(|_| finish.is_none()), finish))
            }
            Endpoint::Completion => {
                let lp = meta.completion_logprobs(logprobs, self.sent_bytes).filter(|_| finish.is_none());
                self.sent_bytes += text.len();
                let choice = CompletionChoice { index: 0, text, logprobs: lp, finish_reason: finish };
                json_event(&meta.completion(vec![choice], None))
            }
        }
    }

    /// The last chunk with `include_usage`: no choices, the usage.
    fn usage(&self, usage: Usage) -> Event {
        match self.meta.endpoint {
            Endpoint::Chat => {
                let mut chunk = self.meta.chat_chunk(ChatDelta::default(), None, None);
                chunk.choices.clear();
                chunk.usage = Some(Some(usage));
                json_event(&chunk)
            }
            Endpoint::Completion => json_event(&self.meta.completion(Vec::new(), Some(usage))),
        }
    }
}
