//! The endpoints and the layers around them: request logs, CORS, errors in OpenAI's shape and
//! the response counts, the request timeout, the API key, the body size limit.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tokio::sync::watch;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnFailure, DefaultOnResponse, TraceLayer};

use super::error::{ApiError, ApiJson};
use super::generation::{Admission, Generation};
use super::metrics::Metrics;
use super::openai::{CompletionRequest, ModelList, ModelObject};
use super::registry::Registry;
use super::reply::{collect, stream, ReplyMeta};
use super::request::{prepare, Defaults, Endpoint};

/// The endpoints, also the `endpoint` label of the response counts (anything else is `other`).
const ENDPOINTS: [&str; 5] = ["/v1/chat/completions", "/v1/completions", "/v1/models", "/health", "/metrics"];

pub struct ServerState {
    pub registry: Registry,
    pub admission: Arc<Admission>,
    pub metrics: Arc<Metrics>,
    pub defaults: Defaults,
    pub api_key: Option<String>,
    /// Turns true when the server is asked to stop.
    pub shutdown: watch::Receiver<bool>,
}

/// The layers' settings.
pub struct HttpLimits {
    pub body_bytes: usize,
    pub timeout: Duration,
    /// Origins allowed to call from a browser; `*` allows any.
    pub cors: Vec<String>,
}

pub fn router(state: Arc<ServerState>, limits: &HttpLimits) -> anyhow::Result<Router> {
    let mut app = Router::new()
        .route("/v1/chat/completions", post(chat_completions))
        .route("/v1/completions", post(completions))
        .route("/v1/models", get(models))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(limits.body_bytes))
        .layer(middleware::from_fn_with_state(Arc::clone(&state), require_key))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, limits.timeout))
        .layer(middleware::from_fn_with_state(Arc::clone(&state), openai_errors))
        .with_state(state);
    if !limits.cors.is_empty() {
        let origins = if limits.cors.iter().any(|o| o == "*") {
            AllowOrigin::any()
        } else {
            let list: Result<Vec<HeaderValue>, _> = limits.cors.iter().map(|o| HeaderValue::from_str(o)).collect();
            AllowOrigin::list(list.map_err(|e| anyhow::anyhow!("--cors: {e}"))?)
        };
        // Headers are mirrored, not `*`: browsers never let `*` cover `Authorization`.
        let cors = CorsLayer::new()
            .allow_origin(origins)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers(AllowHeaders::mirror_request());
        app = app.layer(cors);
    }
    // Every response is logged at info with its method and path; a 503 for a full queue is no
    // failure worth an error line.
    let trace = TraceLayer::new_for_http()
        .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO))
        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO))
        .on_failure(DefaultOnFailure::new().level(tracing::Level::DEBUG));
    Ok(app.layer(trace))
}

/// With `--api-key`, every endpoint but `/health` wants `Authorization: Bearer KEY`.
async fn require_key(State(state): State<Arc<ServerState>>, req: Request, next: Next) -> Response {
    if let Some(key) = &state.api_key {
        let given = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let bearer = given.and_then(|v| v.strip_prefix("Bearer ")).map(str::trim);
        if req.uri().path() != "/health" && !bearer.is_some_and(|b| same_bytes(b.as_bytes(), key.as_bytes())) {
            return ApiError::unauthorized().into_response();
        }
    }
    next.run(req).await
}

/// Compares in time independent of where the first difference is, so a key cannot be guessed
/// byte by byte from response times.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Counts every response by endpoint and status, and gives the errors of the layers and the
/// router (unknown path, wrong method, timeout), which have no JSON body, OpenAI's shape.
async fn openai_errors(State(state): State<Arc<ServerState>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let endpoint = ENDPOINTS.iter().find(|&&e| e == path).copied().unwrap_or("other");
    let response = next.run(req).await;
    let status = response.status();
    state.metrics.count_response(endpoint, status.as_u16());
    let is_json =
        response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !status.is_client_error() && !status.is_server_error() || is_json {
        return response;
    }
    let detail = axum::body::to_bytes(response.into_body(), 64 << 10).await.unwrap_or_default();
    ApiError::for_status(status, &String::from_utf8_lossy(&detail)).into_response()
}

async fn chat_completions(
    State(state): State<Arc<ServerState>>,
    ApiJson(req): ApiJson<CompletionRequest>,
) -> Result<Response, ApiError> {
    generate(state, req, Endpoint::Chat).await
}

async fn completions(
    State(state): State<Arc<ServerState>>,
    ApiJson(req): ApiJson<CompletionRequest>,
) -> Result<Response, ApiError> {
    generate(state, req, Endpoint::Completion).await
}

async fn generate(state: Arc<ServerState>, req: CompletionRequest, endpoint: Endpoint) -> Result<Response, ApiError> {
    let arrived = Instant::now();
    let prepared = prepare(req, endpoint, &state.defaults)?;
    let model_id = state.registry.resolve(prepared.model.as_deref())?.to_string();
    let place = state.admission.enter()?;
    let model = state.registry.get(&model_id).await?;
    let id = state.registry.request_id();
    let logprobs = prepared.spec.logprobs.is_some();
    let metrics = Arc::clone(&state.metrics);
    let generation =
        Generation::start(model, prepared.spec, place, metrics, state.shutdown.clone(), id, arrived).await?;
    let prefix = if endpoint == Endpoint::Chat { "chatcmpl" } else { "cmpl" };
    let meta = ReplyMeta {
        id: format!("{prefix}-{id:x}{:08x}", rand::random::<u32>()),
        created: unix_seconds(),
        model: model_id,
        endpoint,
        logprobs,
        include_usage: prepared.include_usage,
    };
    Ok(if prepared.stream { stream(generation, meta) } else { collect(generation, meta).await })
}

async fn models(State(state): State<Arc<ServerState>>) -> Json<ModelList> {
    let created = unix_seconds();
    let data = state
        .registry
        .ids()
        .into_iter()
        .map(|id| ModelObject { id, object: "model", created, owned_by: "bitnet-tui" })
        .collect();
    Json(ModelList { object: "list", data })
}

/// `ok`, or 503 `loading` while the first model loads.
async fn health(State(state): State<Arc<ServerState>>) -> Response {
    if state.registry.is_loading() && !state.registry.any_loaded() {
        (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "status": "loading" }))).into_response()
    } else {
        Json(serde_json::json!({ "status": "ok" })).into_response()
    }
}

async fn metrics(State(state): State<Arc<ServerState>>) -> Response {
    let mut response = Response::new(Body::from(state.metrics.render()));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4"));
    response
}

fn unix_seconds() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
