//! The embedded object store: an S3-compatible endpoint on 127.0.0.1,
//! served by the host itself (`s3s` over the files of `s3s-fs`), with SigV4
//! authentication. Components sign their requests exactly as they would for
//! AWS S3 or MinIO.
//!
//! Layout of `<state>/s3/`:
//!
//! | file | what |
//! |---|---|
//! | `data/` | the buckets (one directory each) and their objects |
//! | `credentials.json` | the access key id and secret (0600, generated on first run) |
//! | `port` | the port last used (kept while it stays free) |

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::Context;
use hyper_util::rt::TokioIo;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use serde::{Deserialize, Serialize};

use super::secrets;

/// The region the credentials are scoped to (any region signs alike; this is
/// what clients are told).
pub const REGION: &str = "us-east-1";
/// The application's bucket, created at start.
pub const BUCKET: &str = "app";

#[derive(Serialize, Deserialize)]
struct Credentials {
    access_key_id: String,
    secret_access_key: String,
}

/// The running endpoint. Dropping it stops accepting connections.
pub struct EmbeddedS3 {
    address: SocketAddr,
    credentials: Credentials,
    acceptor: tokio::task::JoinHandle<()>,
}

impl EmbeddedS3 {
    /// Serves `dir/data` on a loopback port, on the current tokio runtime.
    pub async fn start(dir: &Path) -> anyhow::Result<Self> {
        let data = dir.join("data");
        std::fs::create_dir_all(data.join(BUCKET))
            .with_context(|| format!("cannot create {}", data.display()))?;
        let credentials = load_or_create_credentials(&dir.join("credentials.json"))?;
        let port = secrets::loopback_port(&dir.join("port"))?;
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .with_context(|| format!("the embedded S3 endpoint cannot listen on port {port}"))?;
        let address = listener.local_addr()?;

        let store = s3s_fs::FileSystem::new(&data)
            .map_err(|e| anyhow::anyhow!("cannot open {} for S3: {e:?}", data.display()))?;
        let mut builder = S3ServiceBuilder::new(store);
        builder.set_auth(SimpleAuth::from_single(
            credentials.access_key_id.clone(),
            credentials.secret_access_key.clone(),
        ));
        let service = builder.build();

        let acceptor = tokio::spawn(async move {
            loop {
                let stream = match listener.accept().await {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::warn!("embedded S3: accept failed: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let service = service.clone();
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        tracing::info!(
            "embedded S3 endpoint at http://{address} (bucket {BUCKET:?}, data in {}, \
             credentials in {})",
            data.display(),
            dir.join("credentials.json").display()
        );
        Ok(Self {
            address,
            credentials,
            acceptor,
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn region(&self) -> &str {
        REGION
    }

    pub fn bucket(&self) -> &str {
        BUCKET
    }

    pub fn access_key_id(&self) -> &str {
        &self.credentials.access_key_id
    }

    pub fn secret_access_key(&self) -> &str {
        &self.credentials.secret_access_key
    }

    /// Stops accepting connections.
    pub fn stop(self) {}
}

impl Drop for EmbeddedS3 {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

fn load_or_create_credentials(path: &PathBuf) -> anyhow::Result<Credentials> {
    if let Ok(text) = std::fs::read_to_string(path) {
        return serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not valid; delete it to get new credentials",
                path.display()
            )
        });
    }
    let credentials = Credentials {
        // AWS's shapes: 20 upper-case characters, 40 for the secret.
        access_key_id: format!(
            "SPIN{}",
            secrets::random_token(16, secrets::UPPER_ALPHANUMERIC)
        ),
        secret_access_key: secrets::random_token(40, secrets::ALPHANUMERIC),
    };
    secrets::write_private(path, &serde_json::to_string_pretty(&credentials)?)?;
    Ok(credentials)
}
