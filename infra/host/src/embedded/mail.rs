//! The embedded mail catcher: a loopback endpoint that accepts what the app
//! sends its mail provider (Postmark's `POST /email` JSON) and keeps each
//! message as a JSON file instead of delivering it, so `spinstack up` works
//! without a mail account and a developer (or a test) can read every mail.
//!
//! Layout of `<state>/mail/`:
//!
//! | file | what |
//! |---|---|
//! | `messages/<ms since epoch>-<sequence>-<id>.json` | one message, as the app posted it (names sort by arrival) |
//! | `port` | the port last used (kept while it stays free) |
//!
//! `spinstack mail list` prints them (`list`), and `GET /messages` answers
//! them as a JSON array, oldest first (for tests and developers, where the
//! files are in another container: `spinstack mail serve`, the compose
//! stack's `mail` service).

use std::convert::Infallible;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use super::secrets;

/// The largest message accepted (Postmark's own limit is 10 MB).
const MAX_BODY: usize = 10 * 1024 * 1024;

/// The running catcher. Dropping it stops accepting connections.
pub struct EmbeddedMail {
    address: SocketAddr,
    acceptor: tokio::task::JoinHandle<()>,
}

/// Where the messages of state directory `dir` (`<state>/mail`) are.
pub fn messages_dir(dir: &Path) -> PathBuf {
    dir.join("messages")
}

impl EmbeddedMail {
    /// Serves on a loopback port, keeping messages in `dir/messages`.
    pub async fn start(dir: &Path) -> anyhow::Result<Self> {
        // The port file is in `dir`, which a fresh state directory lacks.
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let port = secrets::loopback_port(&dir.join("port"))?;
        Self::start_on(dir, SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await
    }

    /// Serves on `address` (`spinstack mail serve`: any interface).
    pub async fn start_on(dir: &Path, address: SocketAddr) -> anyhow::Result<Self> {
        let messages = messages_dir(dir);
        std::fs::create_dir_all(&messages)
            .with_context(|| format!("cannot create {}", messages.display()))?;
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("the mail catcher cannot listen on {address}"))?;
        let address = listener.local_addr()?;
        let store = messages.clone();
        let acceptor = serve(listener, move |request| {
            let store = store.clone();
            async move { answer(&store, request).await }
        });
        tracing::info!(
            "mail catcher at http://{address}: messages are kept in {} \
             (`spinstack mail list`, GET /messages), not delivered",
            messages.display()
        );
        Ok(Self { address, acceptor })
    }

    /// Runs until the process ends (`spinstack mail serve`).
    pub async fn wait(mut self) {
        // Drop aborts what is left in `acceptor`: an already finished task.
        let acceptor = std::mem::replace(&mut self.acceptor, tokio::spawn(async {}));
        let _ = acceptor.await;
    }

    /// `http://127.0.0.1:<port>`, the value of `mail_api_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn stop(self) {}
}

impl Drop for EmbeddedMail {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

/// Serves HTTP/1.1 on `listener`, each request answered by `handler`,
/// until the task is aborted. (The tests' own provider serves with it too.)
pub fn serve<H, F>(listener: tokio::net::TcpListener, handler: H) -> tokio::task::JoinHandle<()>
where
    H: Fn(Request<hyper::body::Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            };
            let handler = handler.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let answered = handler(request);
                    async move { Ok::<_, Infallible>(answered.await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

async fn answer(store: &Path, request: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    if request.uri().path() == "/messages" && request.method() == Method::GET {
        return match stored(store) {
            Ok(messages) => reply(StatusCode::OK, serde_json::Value::Array(messages)),
            Err(e) => {
                tracing::warn!("mail catcher: cannot read the messages: {e:#}");
                reply(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    serde_json::json!({"ErrorCode": 500, "Message": "Not readable"}),
                )
            }
        };
    }
    if request.uri().path() != "/email" {
        return reply(
            StatusCode::NOT_FOUND,
            serde_json::json!({"ErrorCode": 404, "Message": "Not found"}),
        );
    }
    if request.method() != Method::POST {
        return reply(
            StatusCode::METHOD_NOT_ALLOWED,
            serde_json::json!({"ErrorCode": 405, "Message": "POST only"}),
        );
    }
    let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => {
            return reply(
                StatusCode::PAYLOAD_TOO_LARGE,
                serde_json::json!({"ErrorCode": 413, "Message": "Too large"}),
            );
        }
    };
    // Postmark answers 422 with an ErrorCode for a message it cannot take.
    let message: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(value @ serde_json::Value::Object(_)) if value.get("To").is_some() => value,
        _ => {
            return reply(
                StatusCode::UNPROCESSABLE_ENTITY,
                serde_json::json!({"ErrorCode": 300, "Message": "Send a JSON object with To"}),
            );
        }
    };
    let id = uuid::Uuid::new_v4();
    match save(store, id, &message) {
        Ok(()) => reply(
            StatusCode::OK,
            serde_json::json!({"To": message["To"], "MessageID": id.to_string(), "ErrorCode": 0, "Message": "OK"}),
        ),
        Err(e) => {
            tracing::warn!("embedded mail catcher: cannot store a message: {e:#}");
            reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                serde_json::json!({"ErrorCode": 500, "Message": "Not stored"}),
            )
        }
    }
}

/// Writes the message beside its final name, then renames it: a reader
/// never sees half a file.
fn save(store: &Path, id: uuid::Uuid, message: &serde_json::Value) -> anyhow::Result<()> {
    // The sequence orders messages that arrive in the same millisecond
    // (the id alone is random, and sorted them in any order).
    static SEQUENCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let sequence = SEQUENCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let name = format!("{millis:015}-{sequence:012}-{id}.json");
    let partial = store.join(format!(".{name}.partial"));
    std::fs::write(&partial, serde_json::to_vec_pretty(message)?)?;
    std::fs::rename(&partial, store.join(name))?;
    Ok(())
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

/// Every message kept in `store` (`<state>/mail/messages`), oldest first.
fn stored(store: &Path) -> anyhow::Result<Vec<serde_json::Value>> {
    Ok(message_files(store)?
        .iter()
        .map(|path| read_message(path))
        .collect())
}

fn read_message(path: &Path) -> serde_json::Value {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// The message files of `store`, in arrival order (their names sort so).
fn message_files(messages: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(messages) {
        Ok(entries) => entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", messages.display())),
    };
    files.sort();
    Ok(files)
}

/// The stored messages of `dir` (`<state>/mail`), oldest first: file, To,
/// Subject.
pub fn list(dir: &Path) -> anyhow::Result<Vec<(PathBuf, String, String)>> {
    Ok(message_files(&messages_dir(dir))?
        .into_iter()
        .map(|path| {
            let message = read_message(&path);
            let field = |name: &str| message[name].as_str().unwrap_or("").to_owned();
            (path, field("To"), field("Subject"))
        })
        .collect())
}
