//! Arbitrary conversations through every kind of chat format (BitNet's turns, the plain
//! fallback, Jinja templates in the LLaMA-3 and ChatML styles, and a template taken from the
//! input itself): rendering and tokenizing give a result or an error, never a panic or a hang
//! (template work is fuel-limited).
#![no_main]

#[path = "support/alloc_bound.rs"]
mod alloc_bound;
#[path = "support/small_model.rs"]
mod small_model;

use std::sync::LazyLock;

use bitnet_tui::engine::chat::{tokenize_segments, ChatFormat};
use bitnet_tui::engine::protocol::{ChatMessage, Role};
use bitnet_tui::engine::tokenizer::Tokenizer;
use libfuzzer_sys::fuzz_target;

const LLAMA3: &str = "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n\
{{ m['content'] | trim }}<|eot_id|>{% endfor %}{% if add_generation_prompt %}<|start_header_id|>assistant\
<|end_header_id|>\n\n{% endif %}";

const CHATML: &str = "{% if messages[0]['role'] != 'system' %}<|im_start|>system\nYou are helpful.<|im_end|>\n\
{% endif %}{% for message in messages %}{% if message.role == 'user' and message.content.startswith('/') %}\
{{ raise_exception('commands are not messages') }}{% endif %}<|im_start|>{{ message.role }}\n\
{{ message.content.strip() }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

/// Each fixed format with its tokenizer.
static FORMATS: LazyLock<Vec<(ChatFormat, Tokenizer)>> = LazyLock::new(|| {
    [("bitnet-b1.58", None), ("llama", None), ("llama", Some(LLAMA3)), ("llama", Some(CHATML))]
        .into_iter()
        .map(|(arch, template)| {
            let file = small_model::vocab_file(arch, "llama-bpe", template);
            let tok = Tokenizer::from_gguf(&file).expect("small tokenizer");
            let chat = ChatFormat::for_model(&file, &tok).expect("the fixed formats compile");
            (chat, tok)
        })
        .collect()
});

fuzz_target!(|data: &[u8]| {
    let formats = &*FORMATS;
    let Some((&mode, rest)) = data.split_first() else { return };
    alloc_bound::within_input_size(data.len(), || {
        let choice = usize::from(mode & 0x7f) % (formats.len() + 1);
        let add_generation_prompt = mode & 0x80 != 0;
        if choice < formats.len() {
            let (chat, tok) = &formats[choice];
            render(chat, tok, rest, add_generation_prompt);
        } else {
            // The template's own source comes first, up to a 0xFF byte.
            let cut = rest.iter().position(|&b| b == 0xff).unwrap_or(rest.len());
            let source = String::from_utf8_lossy(&rest[..cut]);
            let file = small_model::vocab_file("llama", "llama-bpe", Some(&source));
            let tok = &formats[0].1;
            if let Ok(chat) = ChatFormat::for_model(&file, tok) {
                render(&chat, tok, rest.get(cut + 1..).unwrap_or_default(), add_generation_prompt);
            }
        }
    });
});

/// Messages are 0-separated chunks; a chunk's first byte picks the role.
fn render(chat: &ChatFormat, tok: &Tokenizer, bytes: &[u8], add_generation_prompt: bool) {
    let messages: Vec<ChatMessage> = bytes
        .split(|&b| b == 0)
        .filter_map(|chunk| chunk.split_first())
        .map(|(&role, content)| {
            let role = [Role::System, Role::User, Role::Assistant][usize::from(role) % 3];
            ChatMessage::new(role, String::from_utf8_lossy(content))
        })
        .collect();
    if let Ok(segments) = chat.render(&messages, add_generation_prompt) {
        let _ = tokenize_segments(&segments, tok, &|_, _| None);
    }
}
