//! The application itself under test: the project's `spin.toml` with every
//! component built, a fresh database on the system Postgres (migrated by
//! `spinstack up`), the embedded S3 store and the file-backed key-value
//! store, and a small client for the API's calls.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::database::FreshDatabase;
use super::{AppOptions, TestApp, workspace_root};

/// The project's `spin.toml`, each component's `source` pointing at its
/// freshly built `.wasm`.
pub fn project_manifest() -> String {
    let manifest = std::fs::read_to_string(workspace_root().join("spin.toml")).unwrap();
    let mut out = String::new();
    for line in manifest.lines() {
        match line
            .strip_prefix("source = \"target/wasm32-wasip2/wasm/")
            .and_then(|rest| rest.strip_suffix(".wasm\""))
        {
            Some(name) => out.push_str(&format!("source = \"{{app:{name}}}\"")),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// A running application and its database.
pub struct Project {
    pub app: TestApp,
    pub db: FreshDatabase,
}

#[derive(Default)]
pub struct ProjectOptions<'a> {
    /// `SPIN_VARIABLE_*` and other environment.
    pub env: Vec<(&'a str, String)>,
    /// The gateway's rate limits are off unless this is set.
    pub rate_limits: bool,
    pub args: Vec<String>,
    /// The database to use instead of a fresh one on the system Postgres
    /// (a private cluster's, for the tests that crash it) and its
    /// `host:port`.
    pub database: Option<(FreshDatabase, String)>,
    /// The project directory (and so the state dir `.spinstack`: the
    /// embedded store's objects, the key-value store, the JWT secret) of a
    /// host stopped before, to start it again on the same state.
    pub dir: Option<tempfile::TempDir>,
}

impl Project {
    pub async fn spawn() -> Project {
        Self::spawn_with(ProjectOptions::default()).await
    }

    pub async fn spawn_with(options: ProjectOptions<'_>) -> Project {
        let (db, host) = match options.database {
            Some(given) => given,
            None => (
                FreshDatabase::create("app").await,
                "127.0.0.1:5432".to_owned(),
            ),
        };
        let mut env = vec![
            ("SPIN_VARIABLE_DATABASE_URL", db.url.clone()),
            ("SPIN_VARIABLE_DATABASE_HOST", host),
        ];
        env.extend(options.env);
        let mut args = vec![
            "--migrations".to_owned(),
            workspace_root()
                .join("infra/migrations")
                .to_string_lossy()
                .into_owned(),
        ];
        if !options.rate_limits {
            args.extend(["--gateway".to_owned(), "none".to_owned()]);
        }
        args.extend(options.args);
        // The project's gateway policy beside the manifest, as in the
        // repository: `--gateway none` is that policy without rate limits
        // (proxies, headers, body limits kept).
        let policy = std::fs::read_to_string(workspace_root().join("infra/gateway.toml")).unwrap();
        let app = tokio::task::block_in_place(|| {
            TestApp::spawn_with(
                &project_manifest(),
                AppOptions {
                    env,
                    args,
                    files: vec![("infra/gateway.toml", policy.as_str())],
                    dir: options.dir,
                },
            )
        });
        Project { app, db }
    }

    pub fn api(&self) -> Api {
        Api {
            base_url: self.app.base_url.clone(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
        }
    }
}

/// One answer: status, headers, and the body as JSON (`Null` if empty or
/// not JSON; `text` has it as sent).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    fn new(status: StatusCode, headers: reqwest::header::HeaderMap, text: String) -> Answer {
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
            text,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }

    /// Asserts a problem document with `status`; returns it.
    #[track_caller]
    pub fn problem(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "status {status}: {}",
            self.text
        );
        assert_eq!(self.body["status"], status, "{}", self.text);
        assert!(self.body["title"].is_string() && self.body["detail"].is_string());
        if status == 401 {
            let challenge = self.header("www-authenticate").unwrap_or_default();
            assert!(
                challenge.starts_with("Bearer"),
                "401 without a Bearer challenge"
            );
        }
        &self.body
    }

    #[track_caller]
    pub fn ok(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        &self.body
    }
}

/// Tokens from login or refresh.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

#[derive(Clone)]
pub struct Api {
    pub base_url: String,
    pub client: reqwest::Client,
}

impl Api {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A URL the API returned (presigned store URLs are relative to the
    /// app's origin when the gateway proxies the store), made absolute.
    pub fn absolute(&self, url: &str) -> String {
        if url.starts_with('/') {
            self.url(url)
        } else {
            url.to_owned()
        }
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("request failed");
        let status = response.status();
        let headers = response.headers().clone();
        // A body cut short reads as what arrived (some tests cut it).
        let text = response.text().await.unwrap_or_default();
        Answer::new(status, headers, text)
    }

    /// [`Api::send`] for tests where a request may get no whole answer (the
    /// fault tests): the transport error, as text, instead of a panic.
    pub async fn try_send(&self, request: reqwest::RequestBuilder) -> Result<Answer, String> {
        let response = request.send().await.map_err(|e| format!("{e:?}"))?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.map_err(|e| format!("{e:?}"))?;
        Ok(Answer::new(status, headers, text))
    }

    pub async fn post_json(&self, path: &str, body: &Value, bearer: Option<&str>) -> Answer {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        self.send(request).await
    }

    pub async fn get(&self, path: &str, bearer: Option<&str>) -> Answer {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        self.send(request).await
    }

    pub async fn register(&self, email: &str, password: &str, name: &str) -> Answer {
        self.post_json(
            "/api/auth/register",
            &json!({"email": email, "password": password, "name": name}),
            None,
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Answer {
        self.post_json(
            "/api/auth/login",
            &json!({"email": email, "password": password}),
            None,
        )
        .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Answer {
        self.post_json(
            "/api/auth/refresh",
            &json!({"refresh_token": refresh_token}),
            None,
        )
        .await
    }

    pub async fn logout(&self, tokens: &Tokens) -> Answer {
        self.post_json(
            "/api/auth/logout",
            &json!({"refresh_token": tokens.refresh}),
            Some(&tokens.access),
        )
        .await
    }

    /// Registers `email` (password `password123`) and logs in; the user's
    /// JSON and tokens.
    pub async fn user(&self, email: &str) -> (Value, Tokens) {
        let user = self.register(email, "password123", "Test User").await;
        user.ok(201);
        let tokens = self.tokens(email, "password123").await;
        (user.body, tokens)
    }

    /// Logs in, expecting success.
    pub async fn tokens(&self, email: &str, password: &str) -> Tokens {
        let answer = self.login(email, password).await;
        tokens_of(&answer)
    }
}

#[track_caller]
pub fn tokens_of(answer: &Answer) -> Tokens {
    let body = answer.ok(200);
    Tokens {
        access: body["access_token"].as_str().unwrap().to_owned(),
        refresh: body["refresh_token"].as_str().unwrap().to_owned(),
    }
}

/// Uploads (`/api/uploads`).
impl Api {
    /// `POST /api/uploads?filename=` with `bytes` as the body (and so a
    /// Content-Length), `content_type` unless `None`.
    pub async fn upload(
        &self,
        bearer: &str,
        filename: &str,
        content_type: Option<&str>,
        bytes: Vec<u8>,
    ) -> Answer {
        let mut request = self
            .client
            .post(self.url("/api/uploads"))
            .query(&[("filename", filename)])
            .bearer_auth(bearer)
            .header("content-length", bytes.len().to_string())
            .body(bytes);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        self.send(request).await
    }

    pub async fn delete(&self, path: &str, bearer: Option<&str>) -> Answer {
        let mut request = self.client.delete(self.url(path));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        self.send(request).await
    }

    /// `POST` without a body.
    pub async fn post_empty(&self, path: &str, bearer: Option<&str>) -> Answer {
        let mut request = self.client.post(self.url(path));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        self.send(request).await
    }
}

impl Api {
    /// Opens `GET /api/events` as a browser's `EventSource` would; the
    /// caller reads the stream.
    pub async fn event_stream(&self, bearer: &str) -> reqwest::Response {
        let response = self
            .client
            .get(self.url("/api/events"))
            .bearer_auth(bearer)
            .header("accept", "text/event-stream")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response
    }

    pub async fn patch_json(&self, path: &str, body: &Value, bearer: &str) -> Answer {
        self.send(
            self.client
                .patch(self.url(path))
                .json(body)
                .bearer_auth(bearer),
        )
        .await
    }
}

/// Options for an app whose first admin is `admin@example.com` /
/// `admin-password-1`.
pub fn with_admin<'a>() -> ProjectOptions<'a> {
    ProjectOptions {
        env: vec![
            ("SPIN_VARIABLE_ADMIN_EMAIL", ADMIN_EMAIL.to_owned()),
            ("SPIN_VARIABLE_ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned()),
        ],
        ..Default::default()
    }
}

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "admin-password-1";
