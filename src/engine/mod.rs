//! The inference engine: model, tokenizer, chat format, sampler, KV cache and the worker thread.

pub mod chat;
pub mod protocol;
pub mod sampler;
pub mod tokenizer;
pub mod vocab;
