//! Arbitrary bytes as a saved conversation: loading gives a conversation or an error, and a
//! loaded one can be titled, exported, turned into a prompt and saved again.
#![no_main]

#[path = "support/alloc_bound.rs"]
mod alloc_bound;

use bitnet_tui::app::conversation::Conversation;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    alloc_bound::within_input_size(data.len(), || {
        let Ok(conversation) = serde_json::from_slice::<Conversation>(data) else { return };
        let _ = conversation.display_title();
        let _ = conversation.to_markdown();
        let _ = conversation.prompt();
        let saved = serde_json::to_vec_pretty(&conversation).expect("a loaded conversation serializes");
        serde_json::from_slice::<Conversation>(&saved).expect("a saved conversation loads again");
    });
});
