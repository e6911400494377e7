//! The app's S3-compatible object store (AWS S3, MinIO, R2, the embedded
//! store of `spinstack up`): SigV4 presigned with `rusty-s3` (sans-IO), sent
//! with `spin_sdk::http` (so `s3_endpoint` must be in the component's
//! `allowed_outbound_hosts`).
//!
//! Configured by the Spin variables `s3_endpoint`, `s3_bucket`,
//! `s3_access_key_id`, `s3_secret_access_key`, `s3_region` (default
//! `us-east-1`) and `s3_path_style` (default `true`; `false` for
//! virtual-hosted buckets, `https://<bucket>.<endpoint host>/`).
//!
//! URLs handed to clients (presigned PUTs and GETs) start with
//! `s3_public_url` instead of the endpoint's origin when it is set: under
//! `spinstack` (and the compose stack's nginx) the gateway serves the store
//! at `/_storage` on the app's own origin, so a browser under
//! `Content-Security-Policy: default-src 'self'` may reach it, and SigV4 still
//! holds because the gateway forwards path, query and the upstream's Host
//! as signed. Empty (bare `spin up`): clients get the endpoint's own URLs.
//! The rewrite needs path-style URLs (a virtual-hosted bucket's origin is
//! not the endpoint's).
//!
//! Errors are [`Problem`]s: the store unreachable (or answering 5xx) is 503;
//! anything else it refuses is a 500 that names nothing. The reason goes to
//! the log only (a store's message may name hosts or keys).

use std::time::Duration;

use futures::{SinkExt, Stream, StreamExt};
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use spin_sdk::http::{
    Fields, IncomingResponse, Method, OutgoingRequest, Request, Response, Scheme,
};

use crate::{Problem, config};

/// How long the signature of a request the component sends itself lives.
const OWN_REQUEST_TTL: Duration = Duration::from_secs(300);

pub struct Storage {
    bucket: Bucket,
    credentials: Credentials,
    /// `s3_public_url`, when set and the URLs are path-style.
    public_url: Option<String>,
}

/// What a `HEAD` of an object says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: u64,
    pub content_type: Option<String>,
}

/// A presigned request for a client to send to the store itself.
#[derive(Debug, Clone)]
pub struct Presigned {
    pub url: String,
    /// Headers the client must send exactly as given (they are signed).
    pub headers: Vec<(String, String)>,
}

impl Storage {
    /// The store named by the `s3_*` variables. Missing or invalid
    /// configuration: 500 (logged with the variable's name).
    pub fn from_variables() -> Result<Storage, Problem> {
        let endpoint = config::required("s3_endpoint")?;
        let endpoint = endpoint.trim().parse().map_err(|e| {
            eprintln!("storage: variable s3_endpoint is not a URL: {e}");
            Problem::internal()
        })?;
        let region = config::or_default("s3_region", "us-east-1");
        let style = match config::or_default("s3_path_style", "true")
            .trim()
            .to_ascii_lowercase()
            .as_str()
        {
            "true" | "1" | "yes" => UrlStyle::Path,
            "false" | "0" | "no" => UrlStyle::VirtualHost,
            _ => {
                eprintln!("storage: variable s3_path_style is not true or false");
                return Err(Problem::internal());
            }
        };
        let path_style = matches!(style, UrlStyle::Path);
        let bucket =
            Bucket::new(endpoint, style, config::required("s3_bucket")?, region).map_err(|e| {
                eprintln!("storage: invalid bucket configuration: {e}");
                Problem::internal()
            })?;
        let credentials = Credentials::new(
            config::required("s3_access_key_id")?,
            config::required("s3_secret_access_key")?,
        );
        let public_url = Some(config::or_default("s3_public_url", ""))
            .map(|url| url.trim().trim_end_matches('/').to_owned())
            .filter(|url| !url.is_empty() && path_style);
        Ok(Storage {
            bucket,
            credentials,
            public_url,
        })
    }

    /// A presigned URL as a client should use it: on `s3_public_url` when
    /// set.
    fn for_client(&self, signed: url::Url) -> String {
        let text = signed.to_string();
        match &self.public_url {
            Some(public) => {
                let origin = signed.origin().ascii_serialization();
                match text.strip_prefix(&origin) {
                    Some(rest) => format!("{public}{rest}"),
                    None => text,
                }
            }
            None => text,
        }
    }

    /// A `PUT` of `key` for a client, valid for `expires_in`, bound to
    /// `content_type` and `length`: the store refuses any other type, length,
    /// key or a tampered signature.
    pub fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        length: u64,
        expires_in: Duration,
    ) -> Presigned {
        let length = length.to_string();
        let mut action = self.bucket.put_object(Some(&self.credentials), key);
        action
            .headers_mut()
            .insert("content-length", length.clone());
        action
            .headers_mut()
            .insert("content-type", content_type.to_owned());
        Presigned {
            url: self.for_client(action.sign(expires_in)),
            headers: vec![
                ("content-type".to_owned(), content_type.to_owned()),
                ("content-length".to_owned(), length),
            ],
        }
    }

    /// A `GET` of `key` for a client, valid for `expires_in`. The store
    /// answers with these `Content-Disposition` and `Content-Type` when
    /// given (`response-content-disposition`, `response-content-type`).
    pub fn presign_get(
        &self,
        key: &str,
        content_disposition: Option<&str>,
        content_type: Option<&str>,
        expires_in: Duration,
    ) -> String {
        let mut action = self.bucket.get_object(Some(&self.credentials), key);
        if let Some(value) = content_disposition {
            action
                .query_mut()
                .insert("response-content-disposition", value.to_owned());
        }
        if let Some(value) = content_type {
            action
                .query_mut()
                .insert("response-content-type", value.to_owned());
        }
        self.for_client(action.sign(expires_in))
    }

    /// The object's size and type, `None` if there is no such object.
    pub async fn head_object(&self, key: &str) -> Result<Option<ObjectInfo>, Problem> {
        let url = self
            .bucket
            .head_object(Some(&self.credentials), key)
            .sign(OWN_REQUEST_TTL);
        let response = send(Request::new(Method::Head, url.as_str()), "HEAD").await?;
        match *response.status() {
            200 => {
                let size = header(&response, "content-length")
                    .and_then(|v| v.trim().parse().ok())
                    .ok_or_else(|| refused("HEAD", 200, "no valid Content-Length"))?;
                Ok(Some(ObjectInfo {
                    size,
                    content_type: header(&response, "content-type"),
                }))
            }
            404 => Ok(None),
            status => Err(refused("HEAD", status, "")),
        }
    }

    /// Up to `length` bytes from the start of the object (fewer if it is
    /// shorter), `None` if there is no such object.
    pub async fn read_prefix(&self, key: &str, length: u64) -> Result<Option<Vec<u8>>, Problem> {
        let url = self
            .bucket
            .get_object(Some(&self.credentials), key)
            .sign(OWN_REQUEST_TTL);
        let mut request = Request::new(Method::Get, url.as_str());
        request.set_header("range", format!("bytes=0-{}", length.saturating_sub(1)));
        let response = send(request, "GET").await?;
        match *response.status() {
            200 | 206 => {
                let mut body = response.into_body();
                body.truncate(usize::try_from(length).unwrap_or(usize::MAX));
                Ok(Some(body))
            }
            // An empty object has no byte 0.
            416 => Ok(Some(Vec::new())),
            404 => Ok(None),
            status => Err(refused("GET", status, "")),
        }
    }

    /// Deletes the object. Idempotent: no such object is success.
    pub async fn delete_object(&self, key: &str) -> Result<(), Problem> {
        let url = self
            .bucket
            .delete_object(Some(&self.credentials), key)
            .sign(OWN_REQUEST_TTL);
        let response = send(Request::new(Method::Delete, url.as_str()), "DELETE").await?;
        match *response.status() {
            200 | 202 | 204 | 404 => Ok(()),
            status => Err(refused("DELETE", status, "")),
        }
    }

    /// Streams `body` (exactly `length` bytes) to the object `key`, holding
    /// one chunk at a time. An `Err` from `body` aborts the upload (the
    /// store keeps nothing: the request ends short of its Content-Length)
    /// and is returned as it is; so is a body of another length.
    pub async fn put_object_stream<S>(
        &self,
        key: &str,
        content_type: &str,
        length: u64,
        body: S,
    ) -> Result<(), Problem>
    where
        S: Stream<Item = Result<Vec<u8>, Problem>> + Unpin,
    {
        let url = self
            .bucket
            .put_object(Some(&self.credentials), key)
            .sign(OWN_REQUEST_TTL);
        let headers = Fields::from_list(&[
            ("content-type".to_owned(), content_type.as_bytes().to_vec()),
            ("content-length".to_owned(), length.to_string().into_bytes()),
        ])
        .map_err(|e| {
            eprintln!("storage: invalid PUT header: {e:?}");
            Problem::internal()
        })?;
        let request = OutgoingRequest::new(headers);
        let target = (|| {
            request.set_method(&Method::Put).ok()?;
            let scheme = match url.scheme() {
                "https" => Scheme::Https,
                _ => Scheme::Http,
            };
            request.set_scheme(Some(&scheme)).ok()?;
            let authority = match url.port() {
                Some(port) => format!("{}:{port}", url.host_str()?),
                None => url.host_str()?.to_owned(),
            };
            request.set_authority(Some(&authority)).ok()?;
            let path = match url.query() {
                Some(query) => format!("{}?{query}", url.path()),
                None => url.path().to_owned(),
            };
            request.set_path_with_query(Some(&path)).ok()
        })();
        if target.is_none() {
            eprintln!("storage: cannot build the PUT request");
            return Err(Problem::internal());
        }

        let mut sink = request.take_body();
        let response = spin_sdk::http::send::<_, IncomingResponse>(request);
        let write = async move {
            let mut body = body;
            let mut written: u64 = 0;
            while let Some(chunk) = body.next().await {
                let chunk = chunk?;
                written += chunk.len() as u64;
                if written > length {
                    return Err(Problem::bad_request(
                        "The body is longer than its Content-Length.",
                    ));
                }
                sink.send(chunk).await.map_err(|e| unreachable("PUT", &e))?;
            }
            if written != length {
                return Err(Problem::bad_request(
                    "The body is shorter than its Content-Length.",
                ));
            }
            // Dropping the sink finishes the body.
            drop(sink);
            Ok(())
        };
        let write = std::pin::pin!(write);
        let response = std::pin::pin!(response);
        let response = match futures::future::select(write, response).await {
            futures::future::Either::Left((Ok(()), response)) => response.await,
            // Dropping the response future cancels the request.
            futures::future::Either::Left((Err(problem), _)) => return Err(problem),
            // The store answered before the whole body was sent: an error.
            futures::future::Either::Right((response, _)) => response,
        };
        let response = response.map_err(|e| unreachable("PUT", &e))?;
        match response.status() {
            200 | 201 | 204 => Ok(()),
            status => Err(refused("PUT", status, "")),
        }
    }

    /// The bucket, e.g. for tests or diagnostics.
    pub fn bucket_name(&self) -> &str {
        self.bucket.name()
    }
}

async fn send(request: Request, what: &str) -> Result<Response, Problem> {
    spin_sdk::http::send(request)
        .await
        .map_err(|e| unreachable(what, &e))
}

fn header(response: &Response, name: &str) -> Option<String> {
    response
        .header(name)
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}

/// 503: the store could not be reached.
fn unreachable(what: &str, error: &dyn std::fmt::Debug) -> Problem {
    eprintln!("storage: {what} failed: {error:?}");
    unavailable()
}

/// The store answered `status`: 503 for its own failures, else 500.
fn refused(what: &str, status: u16, detail: &str) -> Problem {
    eprintln!("storage: {what} answered {status} {detail}");
    if status >= 500 {
        unavailable()
    } else {
        Problem::internal()
    }
}

fn unavailable() -> Problem {
    Problem::service_unavailable("The file store is unavailable; try again shortly.")
}
