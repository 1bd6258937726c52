//! The inference engine: model, tokenizer, chat format, sampler, KV cache and the worker thread.
//!
//! Front ends talk to it through [`EngineHandle`] and the [`protocol`] enums; the pieces are also
//! usable directly ([`scheduler::Scheduler`] over a [`runtime::Engine`], or [`model::Model`]'s
//! forward pass) by programs that want no thread.

pub mod bandwidth;
pub mod bench;
pub mod chat;
pub mod draft;
mod fault;
mod handle;
pub mod kv_cache;
pub mod memory;
pub mod model;
pub mod protocol;
pub mod runtime;
pub mod sampler;
pub mod scheduler;
mod sequence;
pub mod synthetic;
pub mod token_counter;
pub mod tokenizer;
pub mod vocab;
mod worker;

pub use handle::{EngineHandle, EngineThread};
