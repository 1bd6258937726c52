//! Checking a request body and turning it into what to generate: every value out of range or
//! feature not offered is a 400 naming the field.

use crate::engine::protocol::{ChatMessage, Prompt, Role};
use crate::engine::sampler::{SamplingParams, SettingRange};

use super::error::ApiError;
use super::generation::GenerationSpec;
use super::openai::{CompletionRequest, LogprobsField, MessageContent, MessageRole, PromptText, StopText};

/// Most alternatives a token's log-probabilities may list (OpenAI's limit).
const MAX_TOP_LOGPROBS: u32 = 20;

/// Which endpoint a request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `/v1/chat/completions`: `messages`, rendered with the model's chat format.
    Chat,
    /// `/v1/completions`: a raw `prompt` to continue.
    Completion,
}

/// The server's defaults for what a request leaves out.
#[derive(Debug, Clone)]
pub struct Defaults {
    pub sampling: SamplingParams,
    /// `--seed`; without it a request without `seed` draws a random one, as OpenAI's do.
    pub seed: Option<u64>,
    /// `--max-tokens`; without it a reply may fill the context.
    pub max_tokens: Option<usize>,
}

/// A checked request.
pub struct Prepared {
    pub model: Option<String>,
    pub spec: GenerationSpec,
    pub stream: bool,
    pub include_usage: bool,
}

pub fn prepare(req: CompletionRequest, endpoint: Endpoint, defaults: &Defaults) -> Result<Prepared, ApiError> {
    if req.n.is_some_and(|n| n != 1) {
        return Err(ApiError::unsupported("n", "`n` must be 1: this server returns one choice per request"));
    }
    for (param, value) in [("tools", &req.tools), ("functions", &req.functions)] {
        if value.as_ref().is_some_and(|v| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty())) {
            return Err(ApiError::unsupported(param, format!("`{param}` (tool calling) is not supported")));
        }
    }
    if let Some(format) = req.response_format.as_ref().filter(|f| f.kind != "text") {
        return Err(ApiError::unsupported(
            "response_format",
            format!("`response_format` `{}` is not supported; only `text`", format.kind),
        ));
    }
    let prompt = match endpoint {
        Endpoint::Chat => Prompt::Chat(chat_messages(&req)?),
        Endpoint::Completion => Prompt::Raw(completion_prompt(&req)?),
    };
    let max_tokens = match req.max_completion_tokens.or(req.max_tokens) {
        Some(0) => return Err(ApiError::invalid("max_tokens", "`max_tokens` must be at least 1")),
        Some(n) => n as usize,
        None => defaults.max_tokens.unwrap_or(usize::MAX),
    };
    let logprobs = logprobs(&req, endpoint)?;
    let sampling = sampling(&req, defaults)?;
    let stops = match req.stop {
        None => Vec::new(),
        Some(StopText::One(s)) => vec![s],
        Some(StopText::Many(list)) => list,
    };
    let include_usage = req.stream_options.as_ref().is_some_and(|o| o.include_usage);
    Ok(Prepared {
        model: req.model.clone(),
        stream: req.stream,
        include_usage,
        spec: GenerationSpec { prompt, sampling, max_tokens, logprobs, stops },
    })
}

fn chat_messages(req: &CompletionRequest) -> Result<Vec<ChatMessage>, ApiError> {
    let messages = req.messages.as_ref().ok_or_else(|| ApiError::invalid("messages", "`messages` is required"))?;
    if messages.is_empty() {
        return Err(ApiError::invalid("messages", "`messages` must hold at least one message"));
    }
    let mut out = Vec::with_capacity(messages.len());
    for (i, m) in messages.iter().enumerate() {
        let role = match m.role {
            MessageRole::System | MessageRole::Developer => Role::System,
            MessageRole::User => Role::User,
            MessageRole::Assistant => Role::Assistant,
            MessageRole::Tool | MessageRole::Function => {
                return Err(ApiError::unsupported(
                    &format!("messages[{i}].role"),
                    "tool and function messages are not supported (no tool calling)",
                ))
            }
        };
        let content = match &m.content {
            None => String::new(),
            Some(MessageContent::Text(text)) => text.clone(),
            Some(MessageContent::Parts(parts)) => {
                let mut text = String::new();
                for (j, part) in parts.iter().enumerate() {
                    match (part.kind.as_str(), &part.text) {
                        ("text", Some(t)) => text.push_str(t),
                        ("text", None) => {
                            return Err(ApiError::invalid(
                                &format!("messages[{i}].content[{j}].text"),
                                "a text part needs `text`",
                            ))
                        }
                        (kind, _) => {
                            return Err(ApiError::unsupported(
                                &format!("messages[{i}].content[{j}].type"),
                                format!("content parts of type `{kind}` are not supported; only `text`"),
                            ))
                        }
                    }
                }
                text
            }
        };
        out.push(ChatMessage::new(role, content));
    }
    Ok(out)
}

fn completion_prompt(req: &CompletionRequest) -> Result<String, ApiError> {
    match &req.prompt {
        None => Err(ApiError::invalid("prompt", "`prompt` is required")),
        Some(PromptText::One(text)) => Ok(text.clone()),
        Some(PromptText::Many(list)) if list.len() == 1 => Ok(list[0].clone()),
        Some(PromptText::Many(_)) => Err(ApiError::unsupported("prompt", "one prompt per request: send a string")),
    }
}

/// How many alternatives each token's log-probabilities list, if they are wanted.
fn logprobs(req: &CompletionRequest, endpoint: Endpoint) -> Result<Option<usize>, ApiError> {
    let top = match (endpoint, req.logprobs) {
        (Endpoint::Chat, None | Some(LogprobsField::Flag(false))) => {
            if req.top_logprobs.is_some() {
                return Err(ApiError::invalid("top_logprobs", "`top_logprobs` needs `logprobs: true`"));
            }
            return Ok(None);
        }
        (Endpoint::Chat, Some(LogprobsField::Flag(true))) => req.top_logprobs.unwrap_or(0),
        (Endpoint::Chat, Some(LogprobsField::Count(_))) => {
            return Err(ApiError::invalid("logprobs", "`logprobs` is a boolean here; `top_logprobs` gives the count"))
        }
        (Endpoint::Completion, None) => return Ok(None),
        (Endpoint::Completion, Some(LogprobsField::Count(n))) => n,
        (Endpoint::Completion, Some(LogprobsField::Flag(_))) => {
            return Err(ApiError::invalid("logprobs", "`logprobs` is the number of alternatives per token here"))
        }
    };
    let param = if endpoint == Endpoint::Chat { "top_logprobs" } else { "logprobs" };
    if top > MAX_TOP_LOGPROBS {
        return Err(ApiError::invalid(param, format!("`{param}` is {top}; at most {MAX_TOP_LOGPROBS}")));
    }
    Ok(Some(top as usize))
}

fn sampling(req: &CompletionRequest, defaults: &Defaults) -> Result<SamplingParams, ApiError> {
    // One definition of each setting's range, shared with the engine, the flags and the config.
    let checked = |param: &str, value: Option<f32>, range: SettingRange| -> Result<Option<f32>, ApiError> {
        value
            .map(|v| range.check(v).map_err(|why| ApiError::invalid(param, format!("`{param}` is {v}; {why}"))))
            .transpose()
    };
    let base = &defaults.sampling;
    Ok(SamplingParams {
        temperature: checked("temperature", req.temperature, SettingRange::AtLeastZero)?.unwrap_or(base.temperature),
        top_p: checked("top_p", req.top_p, SettingRange::ZeroToOne)?.unwrap_or(base.top_p),
        min_p: checked("min_p", req.min_p, SettingRange::ZeroToOne)?.unwrap_or(base.min_p),
        top_k: req.top_k.map_or(base.top_k, |k| k as usize),
        repeat_penalty: checked("repeat_penalty", req.repeat_penalty, SettingRange::AboveZero)?
            .unwrap_or(base.repeat_penalty),
        presence_penalty: checked("presence_penalty", req.presence_penalty, SettingRange::Penalty)?
            .unwrap_or(base.presence_penalty),
        frequency_penalty: checked("frequency_penalty", req.frequency_penalty, SettingRange::Penalty)?
            .unwrap_or(base.frequency_penalty),
        repeat_last_n: base.repeat_last_n,
        seed: req.seed.or(defaults.seed).unwrap_or_else(rand::random),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::error::parse_json;

    fn defaults() -> Defaults {
        Defaults { sampling: SamplingParams::default(), seed: Some(7), max_tokens: None }
    }

    fn prepare_json(json: &str, endpoint: Endpoint) -> Result<Prepared, ApiError> {
        prepare(parse_json(json.as_bytes()).expect("valid JSON"), endpoint, &defaults())
    }

    fn error(json: &str, endpoint: Endpoint) -> ApiError {
        prepare_json(json, endpoint).err().expect("an error")
    }

    #[test]
    fn a_chat_request_becomes_a_conversation_with_its_settings() {
        let p = prepare_json(
            r#"{"model": "m", "messages": [{"role": "developer", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "there"}]}],
                "temperature": 0, "top_k": 3, "max_completion_tokens": 9, "max_tokens": 100, "stop": "x",
                "logprobs": true, "top_logprobs": 2, "stream": true, "stream_options": {"include_usage": true},
                "user": "ignored", "n": 1, "tools": []}"#,
            Endpoint::Chat,
        )
        .unwrap();
        let Prompt::Chat(messages) = &p.spec.prompt else { panic!("not a chat") };
        assert_eq!(messages, &[ChatMessage::new(Role::System, "Be brief."), ChatMessage::new(Role::User, "Hi there")]);
        assert_eq!((p.spec.max_tokens, p.spec.logprobs, p.spec.stops.clone()), (9, Some(2), vec!["x".to_string()]));
        assert_eq!((p.spec.sampling.temperature, p.spec.sampling.top_k, p.spec.sampling.seed), (0.0, 3, 7));
        assert!(p.stream && p.include_usage);
    }

    #[test]
    fn each_unsupported_or_out_of_range_field_is_named() {
        let chat = |extra: &str| format!(r#"{{"messages": [{{"role": "user", "content": "hi"}}]{extra}}}"#);
        for (extra, param) in [
            (r#", "n": 2"#, "n"),
            (r#", "tools": [{"type": "function"}]"#, "tools"),
            (r#", "response_format": {"type": "json_object"}"#, "response_format"),
            (r#", "temperature": -1"#, "temperature"),
            (r#", "top_p": 1.5"#, "top_p"),
            (r#", "presence_penalty": 3"#, "presence_penalty"),
            (r#", "max_tokens": 0"#, "max_tokens"),
            (r#", "top_logprobs": 3"#, "top_logprobs"),
            (r#", "logprobs": true, "top_logprobs": 21"#, "top_logprobs"),
        ] {
            let err = error(&chat(extra), Endpoint::Chat);
            assert_eq!(err.param.as_deref(), Some(param), "{extra}: {err:?}");
            assert!(err.message.contains(&format!("`{param}`")), "{extra}: {}", err.message);
        }
        assert_eq!(error("{}", Endpoint::Chat).param.as_deref(), Some("messages"));
        assert_eq!(error(r#"{"messages": []}"#, Endpoint::Chat).param.as_deref(), Some("messages"));
        let image = r#"{"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}"#;
        assert_eq!(error(image, Endpoint::Chat).param.as_deref(), Some("messages[0].content[0].type"));
        assert_eq!(error(r#"{"prompt": ["a", "b"]}"#, Endpoint::Completion).param.as_deref(), Some("prompt"));
        assert_eq!(error(r#"{"messages": []}"#, Endpoint::Completion).param.as_deref(), Some("prompt"));
    }

    #[test]
    fn a_completion_takes_a_raw_prompt_and_a_logprobs_count() {
        let p = prepare_json(r#"{"prompt": ["Once upon"], "logprobs": 3, "stop": ["a", "b"]}"#, Endpoint::Completion)
            .unwrap();
        assert_eq!(p.spec.prompt, Prompt::Raw("Once upon".into()));
        assert_eq!((p.spec.logprobs, p.spec.stops.len(), p.spec.max_tokens), (Some(3), 2, usize::MAX));
        let err = error(r#"{"prompt": "x", "logprobs": true}"#, Endpoint::Completion);
        assert_eq!(err.param.as_deref(), Some("logprobs"));
    }
}
