//! Jinja chat templates (SmolLM2's ChatML, against llama.cpp's prompt ids), the plain fallback
//! and template errors, the latter on the small built-in vocabulary.

mod common;

use bitnet_tui::engine::chat::{tokenize_segments, ChatFormat, Segment};
use bitnet_tui::engine::protocol::{ChatMessage, Role};
use bitnet_tui::engine::tokenizer::Tokenizer;
use bitnet_tui::engine::vocab::Vocab;
use bitnet_tui::gguf::{GgufFile, GgufWriter, Value};
use serde::Deserialize;

const SMOL_SYSTEM: &str =
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n";

#[derive(Deserialize)]
struct Greedy {
    cases: Vec<GreedyCase>,
    extra_cases: Vec<GreedyCase>,
}

#[derive(Deserialize)]
struct GreedyCase {
    user_message: Option<String>,
    prompt_text: String,
    prompt_ids: Vec<u32>,
}

fn smollm2() -> (Tokenizer, ChatFormat) {
    let file = GgufFile::open(common::smollm2()).expect("SmolLM2 opens");
    let tok = Tokenizer::from_gguf(&file).expect("tokenizer builds");
    let format = ChatFormat::for_model(&file, &tok).expect("chat format");
    (tok, format)
}

fn no_reply(_: usize, _: &str) -> Option<Vec<u32>> {
    None
}

fn user(text: &str) -> ChatMessage {
    ChatMessage::new(Role::User, text)
}

#[test]
fn smollm2_prompts_match_llama_cpp() {
    let path = common::shared_dir().join("reference/smollm2-greedy.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let greedy: Greedy = serde_json::from_str(&text).expect("smollm2-greedy.json parses");
    let (tok, format) = smollm2();
    assert_eq!(format.name(), "jinja");

    // The chat cases, and "What is 2+2?" (the exact-match case, recorded as prompt text only).
    let two_plus_two =
        greedy.extra_cases.iter().find(|c| c.prompt_text.contains("What is 2+2?")).expect("the 2+2 case");
    let chat_cases = greedy.cases.iter().map(|c| {
        let message = c.user_message.clone().expect("a chat case");
        (message, c)
    });
    let mut checked = 0;
    for (message, case) in chat_cases.chain([("What is 2+2?".to_owned(), two_plus_two)]) {
        let segments = format.render(&[user(&message)], true).expect("renders");
        assert_eq!(segments, [Segment::Text { text: case.prompt_text.clone(), special: true }]);
        let ids = tokenize_segments(&segments, &tok, &no_reply).expect("tokenizes");
        assert_eq!(ids, case.prompt_ids, "{message:?}");
        checked += 1;
    }
    assert_eq!(checked, 4);
}

#[test]
fn smollm2_replies_become_assistant_segments() {
    let (tok, format) = smollm2();
    let messages = [user("Hi"), ChatMessage::new(Role::Assistant, "Hello! How can I help?"), user("Tell me a joke.")];
    let segments = format.render(&messages, true).expect("renders");
    assert_eq!(
        segments,
        [
            Segment::Text {
                text: format!("{SMOL_SYSTEM}<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"),
                special: true
            },
            Segment::AssistantContent { index: 1, text: "Hello! How can I help?".into() },
            Segment::Text {
                text: "<|im_end|>\n<|im_start|>user\nTell me a joke.<|im_end|>\n<|im_start|>assistant\n".into(),
                special: true
            },
        ]
    );
    // Without sampled tokens, the ids equal llama.cpp's way: the whole prompt at once.
    let whole = format!(
        "{SMOL_SYSTEM}<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello! How can I \
         help?<|im_end|>\n<|im_start|>user\nTell me a joke.<|im_end|>\n<|im_start|>assistant\n"
    );
    let ids = tokenize_segments(&segments, &tok, &no_reply).expect("tokenizes");
    assert_eq!(ids, tok.encode(&whole, false, true).expect("encodes"));

    let known = |index: usize, _: &str| (index == 1).then(|| vec![7, 8, 9]);
    let ids = tokenize_segments(&segments, &tok, &known).expect("tokenizes");
    let prefix = tok
        .encode(&format!("{SMOL_SYSTEM}<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"), false, true)
        .expect("encodes");
    assert_eq!(&ids[..prefix.len()], prefix);
    assert_eq!(&ids[prefix.len()..prefix.len() + 4], [7, 8, 9, 2]);
}

/// A GGUF with the small vocabulary, architecture `llama` and the given chat template.
fn small_model(template: Option<&str>) -> GgufFile {
    let vocab = Vocab::small_byte_level();
    let mut w = GgufWriter::new();
    w.set("general.architecture", Value::String("llama".into()));
    vocab.write_gguf_metadata(&mut w);
    w.set("tokenizer.ggml.pre", Value::String("llama-bpe".into()));
    let bos = vocab.id_of("<|begin_of_text|>").expect("bos");
    w.set("tokenizer.ggml.bos_token_id", Value::U32(bos));
    if let Some(t) = template {
        w.set("tokenizer.chat_template", Value::String(t.into()));
    }
    GgufFile::from_bytes("small.gguf", w.to_bytes(&[]).expect("GGUF image")).expect("parses")
}

fn format_of(file: &GgufFile) -> anyhow::Result<(Tokenizer, ChatFormat)> {
    let tok = Tokenizer::from_gguf(file)?;
    let format = ChatFormat::for_model(file, &tok)?;
    Ok((tok, format))
}

#[test]
fn models_without_a_template_get_plain_turns() {
    let (tok, format) = format_of(&small_model(None)).expect("loads");
    assert_eq!(format.name(), "plain");
    let mut messages = vec![user(" What is BPE? "), ChatMessage::new(Role::Assistant, "A tokenizer.")];
    messages.push(user("And?"));
    let segments = format.render(&messages, true).expect("renders");
    let text = |t: &str| Segment::Text { text: t.into(), special: false };
    let answered = [
        Segment::Token(tok.bos().expect("bos")),
        text("User:"),
        text(" What is BPE?"),
        text("\n"),
        text("Assistant:"),
        Segment::AssistantContent { index: 1, text: " A tokenizer.".into() },
    ];
    let mut expected = answered.to_vec();
    expected.extend([text("\n"), text("User:"), text(" And?"), text("\n"), text("Assistant:")]);
    assert_eq!(segments, expected);
    // A conversation that ends with a reply continues it: no end of turn, no new turn.
    messages.pop();
    assert_eq!(format.render(&messages, true).expect("renders"), answered);
}

#[test]
fn smollm2_continues_a_last_assistant_message() {
    let (_, format) = smollm2();
    let messages = [user("Hi"), ChatMessage::new(Role::Assistant, "Hello! How")];
    let segments = format.render(&messages, true).expect("renders");
    assert_eq!(
        segments,
        [
            Segment::Text {
                text: format!("{SMOL_SYSTEM}<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"),
                special: true
            },
            Segment::AssistantContent { index: 1, text: "Hello! How".into() },
        ]
    );
}

#[test]
fn a_bitnet_template_selects_the_bitnet_format() {
    let file = small_model(Some("{{ bos_token }}Human: BITNETAssistant: "));
    let (_, format) = format_of(&file).expect("loads");
    assert_eq!(format.name(), "bitnet");
}

#[test]
fn template_variables_and_python_methods() {
    let template = "{{ bos_token }}{% for m in messages %}[{{ m['role'].upper() }}]{{ m.content.strip() }}\n{% endfor %}{% if add_generation_prompt %}>{% endif %}";
    let (tok, format) = format_of(&small_model(Some(template))).expect("loads");
    assert_eq!(format.name(), "jinja");
    let segments = format.render(&[user("  hi  ")], true).expect("renders");
    // The template writes BOS itself, so no extra BOS token is added.
    assert_eq!(segments, [Segment::Text { text: "<|begin_of_text|>[USER]hi\n>".into(), special: true }]);
    let ids = tokenize_segments(&segments, &tok, &no_reply).expect("tokenizes");
    assert_eq!(ids.first().copied(), tok.bos());
    assert_eq!(ids.iter().filter(|&&id| Some(id) == tok.bos()).count(), 1);
}

#[test]
fn bos_is_added_when_the_template_lacks_it() {
    let template = "{% for m in messages %}{{ m.content }}{% endfor %}";
    let (tok, format) = format_of(&small_model(Some(template))).expect("loads");
    let segments = format.render(&[user("hi")], false).expect("renders");
    assert_eq!(segments[0], Segment::Token(tok.bos().expect("bos")));
}

#[test]
fn a_template_that_raises_names_the_file_and_key() {
    let template = "{{ raise_exception('Conversation roles must alternate') }}";
    let (_, format) = format_of(&small_model(Some(template))).expect("loads");
    let err = format!("{:#}", format.render(&[user("hi")], true).expect_err("fails"));
    assert!(
        err.contains("small.gguf")
            && err.contains("tokenizer.chat_template")
            && err.contains("Conversation roles must alternate"),
        "{err}"
    );
}

#[test]
fn a_template_with_bad_syntax_names_the_file_and_key() {
    let err = format!("{:#}", format_of(&small_model(Some("{% for %}{{ x }}"))).expect_err("fails"));
    assert!(err.contains("small.gguf") && err.contains("tokenizer.chat_template"), "{err}");
}
