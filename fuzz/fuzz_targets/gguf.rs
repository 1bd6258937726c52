//! Arbitrary bytes as a model file: the header, metadata, tensor table, model config, weight
//! checks, tokenizer and chat format must all refuse bad input with an error, never panic, and
//! never allocate more than the file holds.
#![no_main]

#[path = "support/alloc_bound.rs"]
mod alloc_bound;

use std::sync::Arc;

use bitnet_tui::engine::chat::ChatFormat;
use bitnet_tui::engine::model::Model;
use bitnet_tui::engine::tokenizer::Tokenizer;
use bitnet_tui::gguf::{GgufFile, ModelSummary};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    alloc_bound::within_input_size(data.len(), || load(data));
});

/// Every step `Engine::load` takes before it spends memory on threads and caches.
fn load(data: &[u8]) {
    let Ok(file) = GgufFile::from_bytes("fuzz.gguf", data.to_vec()) else { return };
    let file = Arc::new(file);
    let _ = ModelSummary::of(&file);
    let _ = file.hparams();
    let _ = Model::from_file(Arc::clone(&file));
    if let Ok(tokenizer) = Tokenizer::from_gguf(&file) {
        let _ = tokenizer.encode("Hello, world! <|eot_id|> 123", tokenizer.bos().is_some(), true);
        if let Ok(chat) = ChatFormat::for_model(&file, &tokenizer) {
            let _ = chat.render(&[], true);
        }
    }
}
