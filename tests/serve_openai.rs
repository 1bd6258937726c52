//! `bitnet-tui serve` end to end: the binary on a free port, driven by the official `openai`
//! Python SDK (tests/serve_openai_client.py, in a venv under the test cache) and by plain HTTP
//! for the error cases, the queue limit, the metrics and the shutdown.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The `openai` SDK version the tests drive the server with.
const OPENAI_SDK: &str = "openai==1.99.9";

/// A running server, stopped (SIGTERM) on drop.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(models: &[PathBuf], flags: &[&str]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_bitnet-tui"));
        cmd.args(["serve", "--port", "0", "--quiet"]);
        for m in models {
            cmd.arg("--model").arg(m);
        }
        let mut child = cmd.args(flags).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        // "bitnet-tui serve: http://127.0.0.1:PORT/v1 (models: …)"
        let url = line.split_whitespace().nth(2).unwrap_or_else(|| panic!("no URL in {line:?}"));
        let server = Self { child, url: url.trim_end_matches("/v1").to_string() };
        server.wait_until(|s| s.get("/health").0 == 200, "the model to load");
        server
    }

    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder().http_status_as_error(false).build().into()
    }

    fn answer(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Value, Option<String>) {
        let mut response = response.unwrap();
        let status = response.status().as_u16();
        let retry = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
        let text = response.body_mut().read_to_string().unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)), retry)
    }

    fn get(&self, path: &str) -> (u16, Value) {
        let (status, body, _) = Self::answer(Self::agent().get(format!("{}{path}", self.url)).call());
        (status, body)
    }

    fn post_raw(&self, path: &str, body: &str, key: Option<&str>) -> (u16, Value, Option<String>) {
        let mut request = Self::agent().post(format!("{}{path}", self.url)).header("content-type", "application/json");
        if let Some(key) = key {
            request = request.header("authorization", format!("Bearer {key}"));
        }
        Self::answer(request.send(body))
    }

    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let (status, body, _) = self.post_raw(path, &body.to_string(), None);
        (status, body)
    }

    /// A gauge's value from `/metrics`.
    fn gauge(&self, name: &str) -> f64 {
        let (_, text) = self.get("/metrics");
        let text = text.as_str().unwrap().to_string();
        let line =
            text.lines().find(|l| l.starts_with(&format!("{name} "))).unwrap_or_else(|| panic!("{name} missing"));
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// Polls until `done` holds; a minute without it fails (a hang, not a slow machine).
    fn wait_until(&self, done: impl Fn(&Self) -> bool, what: &str) {
        let start = Instant::now();
        while !done(self) {
            assert!(start.elapsed() < Duration::from_secs(60), "gave up waiting for {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill").args(["-TERM", &self.pid()]).status();
            let _ = self.child.wait();
        }
    }
}

/// The venv's Python with the pinned `openai` SDK, created on first use (`.ci/run` creates it
/// beforehand).
fn python() -> &'static PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let cache = std::env::var_os("BITNET_TUI_TEST_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/bitnet-tui-tests"));
        let venv = cache.join("openai-venv");
        let python = venv.join("bin/python");
        let pinned = Command::new(&python)
            .args(["-c", &format!("import openai; assert openai.__version__ == '{}'", &OPENAI_SDK[8..])])
            .status()
            .is_ok_and(|s| s.success());
        if !pinned {
            assert!(Command::new("python3").arg("-m").arg("venv").arg(&venv).status().unwrap().success());
            let pip = Command::new(&python).args(["-m", "pip", "install", "--quiet", OPENAI_SDK]).status().unwrap();
            assert!(pip.success(), "pip install {OPENAI_SDK} failed");
        }
        python
    })
}

/// Runs a scenario of the SDK client script and returns what it printed.
fn client(server: &Server, scenario: &str, arg: Option<Value>) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/serve_openai_client.py");
    let mut cmd = Command::new(python());
    cmd.arg(script).arg(format!("{}/v1", server.url)).arg(scenario);
    if let Some(arg) = arg {
        cmd.arg(arg.to_string());
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "client {scenario} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn bitnet_tui_json(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_bitnet-tui")).args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn assert_openai_error(body: &Value, context: &str) {
    let error = &body["error"];
    for field in ["message", "type", "code"] {
        assert!(error[field].is_string(), "{context}: no error.{field} in {body}");
    }
}

#[test]
fn the_openai_sdk_gets_chat_stream_completions_models_stop_seed_and_logprobs() {
    let model = common::smollm2();
    let server = Server::start(std::slice::from_ref(&model), &[]);
    let out = client(&server, "basic", None);
    let m = model.to_str().unwrap();

    assert_eq!(out["models"], json!(["SmolLM2-135M-Instruct.Q4_1"]));
    // What `run` answers at temperature 0, token for token.
    let run = bitnet_tui_json(&["run", "-m", m, "-p", "What is 2+2?", "--temp", "0", "-n", "48", "--json"]);
    let chat = &out["chat"];
    assert_eq!(chat["text"], run["text"], "{out}");
    assert_eq!(chat["object"], "chat.completion");
    assert!(chat["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(chat["usage"]["prompt_tokens"], run["stats"]["prompt_tokens"]);
    assert_eq!(chat["usage"]["completion_tokens"], json!(run["tokens"].as_array().unwrap().len()));
    assert_eq!(chat["finish_reason"], "stop");

    let stream = &out["stream"];
    let pieces: String = stream["pieces"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert_eq!(pieces, chat["text"].as_str().unwrap());
    assert!(stream["pieces"].as_array().unwrap().len() > 3, "not streamed: {stream}");
    assert_eq!(stream["roles"], json!(["assistant"]));
    assert_eq!(stream["usage"], chat["usage"]);
    assert_eq!(stream["finish_reason"], "stop");

    // Usage counts the prompt as `tokenize` does (a raw prompt: BOS per the model, specials parsed).
    let prompt = "The capital of France is";
    let ids = bitnet_tui_json(&["tokenize", "--model", m, "--special", prompt]);
    let completion = &out["completion"];
    assert_eq!(completion["usage"]["prompt_tokens"], json!(ids["ids"].as_array().unwrap().len()));
    assert_eq!(completion["finish_reason"], "length");
    assert_eq!(completion["usage"]["completion_tokens"], 12);
    assert_eq!(completion["logprob_tokens"].as_array().unwrap().len(), 12);
    let raw = bitnet_tui_json(&["run", "-m", m, "--raw", "-p", prompt, "--temp", "0", "-n", "12", "--json"]);
    assert_eq!(completion["text"], raw["text"]);

    let stop = &out["stop"];
    let (full, stop_text) = (chat["text"].as_str().unwrap(), stop["stop"].as_str().unwrap());
    assert_eq!(stop["text"].as_str().unwrap(), &full[..full.find(stop_text).unwrap()], "{stop}");
    assert_eq!(stop["stream_text"], stop["text"]);
    assert_eq!(stop["finish_reason"], "stop");

    let seeded = out["seeded"].as_array().unwrap();
    assert_eq!(seeded[0], seeded[1], "the same seed gave two texts");
    assert_ne!(seeded[0], seeded[2], "another seed gave the same text");

    let logprobs = &out["logprobs"];
    let content = logprobs["content"].as_array().unwrap();
    assert!(!content.is_empty());
    let tokens: String = content.iter().map(|e| e["token"].as_str().unwrap()).collect();
    assert_eq!(tokens, logprobs["text"].as_str().unwrap());
    for entry in content {
        let top = entry["top"].as_array().unwrap();
        assert_eq!(top.len(), 3, "{entry}");
        let values: Vec<f64> = top.iter().map(|t| t[1].as_f64().unwrap()).collect();
        assert!(values.windows(2).all(|w| w[0] >= w[1]), "not sorted: {entry}");
        assert!(values[0] <= 0.0);
        // Greedy: the chosen token is the most likely one.
        assert_eq!((&top[0][0], top[0][1].as_f64()), (&entry["token"], entry["logprob"].as_f64()), "{entry}");
    }

    assert_eq!(out["unknown_model"]["status"], 404);
    assert_eq!(out["unknown_model"]["body"]["code"], "model_not_found");
}

/// What is wrong, the endpoint, the body, the API key, the status wanted and the field named.
type ErrorCase<'a> = (&'a str, &'a str, String, Option<&'a str>, u16, Option<&'a str>);

#[test]
fn every_error_has_its_status_and_openai_shape_and_the_server_keeps_serving() {
    let model = common::smollm2();
    let flags = ["--api-key", "s3cret", "--ctx", "64", "--max-body", "4096", "--cors", "https://chat.example.org"];
    let server = Server::start(std::slice::from_ref(&model), &flags);
    let serving = || {
        let (status, body, _) =
            server.post_raw("/v1/completions", &json!({"prompt": "Hi", "max_tokens": 2}).to_string(), Some("s3cret"));
        assert_eq!(status, 200, "{body}");
    };
    let chat = |extra: Value| {
        let mut body = json!({"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body.to_string()
    };
    let long = "word ".repeat(100);
    let long_tokens = bitnet_tui_json(&["tokenize", "--model", model.to_str().unwrap(), "--special", &long])["ids"]
        .as_array()
        .unwrap()
        .len();
    let (chat_path, completion_path) = ("/v1/chat/completions", "/v1/completions");
    let key = Some("s3cret");
    let cases: Vec<ErrorCase> = vec![
        ("no key", chat_path, chat(json!({})), None, 401, None),
        ("wrong key", chat_path, chat(json!({})), Some("guess"), 401, None),
        ("broken JSON", chat_path, "{\"messages\": ".into(), key, 400, None),
        ("wrong type", chat_path, chat(json!({"temperature": "hot"})), key, 400, Some("temperature")),
        ("n > 1", chat_path, chat(json!({"n": 3})), key, 400, Some("n")),
        ("tools", chat_path, chat(json!({"tools": [{"type": "function"}]})), key, 400, Some("tools")),
        (
            "json mode",
            chat_path,
            chat(json!({"response_format": {"type": "json_object"}})),
            key,
            400,
            Some("response_format"),
        ),
        ("unknown model", chat_path, chat(json!({"model": "gpt-4"})), key, 404, Some("model")),
        ("no prompt", completion_path, json!({"max_tokens": 2}).to_string(), key, 400, Some("prompt")),
        ("prompt over the context", completion_path, json!({"prompt": long}).to_string(), key, 400, None),
        ("body over the limit", completion_path, json!({"prompt": "x".repeat(5000)}).to_string(), key, 413, None),
    ];
    for (what, path, body, key, status, param) in cases {
        let (got, answer, _) = server.post_raw(path, &body, key);
        assert_eq!(got, status, "{what}: {answer}");
        assert_openai_error(&answer, what);
        if let Some(param) = param {
            assert_eq!(answer["error"]["param"], param, "{what}");
            assert!(answer["error"]["message"].as_str().unwrap().contains(param), "{what}: {answer}");
        }
        if what == "prompt over the context" {
            let message = answer["error"]["message"].as_str().unwrap();
            assert!(message.contains(&format!("{long_tokens} tokens")) && message.contains("64"), "{message}");
        }
        serving();
    }
    let (status, body, _) = server.post_raw("/v1/no-such-endpoint", "{}", key);
    assert_eq!(status, 404);
    assert_openai_error(&body, "unknown endpoint");
    let (status, body, _) = server.post_raw("/health", "{}", key);
    assert_eq!(status, 405);
    assert_openai_error(&body, "wrong method");
    assert_eq!(server.get("/health").0, 200, "health needs no key");
    assert_eq!(server.get("/v1/models").0, 401);
    // A browser's preflight needs no key, and may send the key after it.
    let preflight = Server::agent()
        .options(format!("{}/v1/chat/completions", server.url))
        .header("origin", "https://chat.example.org")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization,content-type")
        .call()
        .unwrap();
    assert_eq!(preflight.status(), 200);
    let allowed = |name: &str| preflight.headers()[name].to_str().unwrap().to_string();
    assert_eq!(allowed("access-control-allow-origin"), "https://chat.example.org");
    assert!(allowed("access-control-allow-headers").contains("authorization"));
    serving();
}

#[test]
fn thirty_two_concurrent_streams_each_equal_their_prompt_alone() {
    let server = Server::start(&[common::smollm2()], &["--parallel", "8", "--queue", "32"]);
    let prompts: Vec<String> = (0..32).map(|i| format!("Write one sentence about the number {i}.")).collect();
    let together = client(&server, "concurrent", Some(json!({"prompts": prompts, "at_once": true})));
    let alone = client(&server, "concurrent", Some(json!({"prompts": prompts, "at_once": false})));
    let (together, alone) = (together["texts"].as_array().unwrap(), alone["texts"].as_array().unwrap());
    assert_eq!(together.len(), 32);
    for (i, (a, b)) in together.iter().zip(alone).enumerate() {
        assert!(!a.as_str().unwrap().is_empty(), "prompt {i} got nothing");
        assert_eq!(a, b, "prompt {i}: concurrent and alone differ");
    }
    assert_eq!(server.gauge("bitnet_active_sequences"), 0.0);
}

#[test]
fn clients_that_disconnect_mid_stream_free_their_places() {
    let server = Server::start(&[common::smollm2()], &["--parallel", "4", "--queue", "8"]);
    let out = client(&server, "disconnect", Some(json!(8)));
    assert_eq!(out["read"], json!(vec![2; 8]));
    server.wait_until(
        |s| s.gauge("bitnet_active_sequences") == 0.0 && s.gauge("bitnet_queued_sequences") == 0.0,
        "the disconnected streams to be cancelled",
    );
    // The places are free again: a full queue's worth of requests is admitted.
    let generated = server.gauge("bitnet_generated_tokens_total");
    assert!(generated < 8.0 * 400.0, "the streams ran to the end: {generated} tokens");
    let (status, body) = server.post("/v1/completions", &json!({"prompt": "Hi", "max_tokens": 2}));
    assert_eq!(status, 200, "{body}");
}

/// Starts a long streaming completion on its own thread; returns its whole event stream.
fn long_stream(url: &str) -> std::thread::JoinHandle<String> {
    let url = format!("{url}/v1/completions");
    std::thread::spawn(move || {
        let body = json!({"prompt": "1, 2, 3, 4, 5,", "max_tokens": 300, "temperature": 0, "stream": true});
        let mut response = Server::agent().post(url).send(body.to_string()).unwrap();
        let mut text = String::new();
        response.body_mut().as_reader().read_to_string(&mut text).unwrap();
        text
    })
}

#[test]
fn a_full_queue_answers_503_with_retry_after_then_recovers() {
    let server = Server::start(&[common::smollm2()], &["--parallel", "1", "--queue", "1"]);
    let streams = [long_stream(&server.url), long_stream(&server.url)];
    server.wait_until(
        |s| s.gauge("bitnet_active_sequences") + s.gauge("bitnet_queued_sequences") == 2.0,
        "both places to be taken",
    );
    let (status, body, retry) = server.post_raw("/v1/completions", &json!({"prompt": "Hi"}).to_string(), None);
    assert_eq!(status, 503, "{body}");
    assert_eq!(retry.as_deref(), Some("1"));
    assert_openai_error(&body, "queue full");
    for stream in streams {
        assert!(stream.join().unwrap().ends_with("data: [DONE]\n\n"));
    }
    let (status, body) = server.post("/v1/completions", &json!({"prompt": "Hi", "max_tokens": 2}));
    assert_eq!(status, 200, "{body}");
    let (_, metrics) = server.get("/metrics");
    assert!(metrics.as_str().unwrap().contains("status=\"503\"} 1\n"), "{metrics}");
}

#[test]
fn sigterm_ends_running_streams_and_exits_zero() {
    let mut server = Server::start(&[common::smollm2()], &[]);
    let stream = long_stream(&server.url);
    server.wait_until(|s| s.gauge("bitnet_generated_tokens_total") > 0.0, "the stream to start");
    assert!(Command::new("kill").args(["-TERM", &server.pid()]).status().unwrap().success());
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status}");
    let events = stream.join().unwrap();
    assert!(events.contains("\"finish_reason\":\"length\""), "{events}");
    assert!(events.ends_with("data: [DONE]\n\n"), "{events}");
}

#[test]
fn two_models_load_on_first_use_and_take_turns_in_memory() {
    let (smol, tiny) = (common::smollm2(), common::bitnet_tiny());
    let server = Server::start(&[smol, tiny], &["--max-loaded", "1"]);
    let (_, models) = server.get("/v1/models");
    let ids: Vec<&str> = models["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["SmolLM2-135M-Instruct.Q4_1", "bitnet-tiny"]);
    for model in ["bitnet-tiny", "SmolLM2-135M-Instruct.Q4_1", "bitnet-tiny"] {
        let (status, body) = server
            .post("/v1/completions", &json!({"model": model, "prompt": "Hello", "max_tokens": 4, "temperature": 0}));
        assert_eq!(status, 200, "{model}: {body}");
        assert_eq!(body["model"], model);
        assert!(body["usage"]["completion_tokens"].as_u64().unwrap() > 0, "{body}");
    }
}

#[test]
fn the_next_turn_of_each_of_six_conversations_prefills_only_its_new_tokens() {
    let server = Server::start(&[common::smollm2()], &["--cache-mb", "64"]);
    let first_turns: Vec<Value> =
        (0..6).map(|i| json!([{"role": "user", "content": format!("Give me a fact about the number {i}.")}])).collect();
    let ask = |messages: &Value| {
        let before = server.gauge("bitnet_prefill_tokens_total");
        let (status, body) =
            server.post("/v1/chat/completions", &json!({"messages": messages, "max_tokens": 12, "temperature": 0}));
        assert_eq!(status, 200, "{body}");
        (body, server.gauge("bitnet_prefill_tokens_total") - before)
    };
    let replies: Vec<Value> = first_turns.iter().map(|m| ask(m).0).collect();
    // Six conversations come back, the oldest first: more than the scheduler keeps by default.
    for (messages, reply) in first_turns.iter().zip(&replies) {
        let mut next = messages.as_array().unwrap().clone();
        next.push(json!({"role": "assistant", "content": reply["choices"][0]["message"]["content"]}));
        next.push(json!({"role": "user", "content": "And another one?"}));
        let (body, prefilled) = ask(&Value::Array(next));
        let prompt = body["usage"]["prompt_tokens"].as_f64().unwrap();
        assert!(prefilled < prompt / 2.0, "{prefilled} of {prompt} prompt tokens prefilled again");
    }
}
