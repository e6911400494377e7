//! The admin listener: `GET /metrics` (Prometheus/OpenMetrics text) on its
//! own address (`--admin-listen`), never on the public port. Loopback unless
//! the operator asks otherwise: the metrics have no authentication, and a
//! scraper in the same pod or host reaches loopback anyway.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

use super::{Metrics, Sample};
use crate::app::App;

/// OpenMetrics 1.0, which Prometheus asks for and reads.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Refuses a non-loopback address unless `remote` (`--admin-listen-remote`).
pub fn check_address(address: SocketAddr, remote: bool) -> anyhow::Result<()> {
    anyhow::ensure!(
        remote || address.ip().is_loopback(),
        "--admin-listen {address}: the admin listener serves metrics without \
         authentication, so it binds to loopback only (127.0.0.1, [::1]); pass \
         --admin-listen-remote to expose it on {address} (a scraper in another \
         container, say)"
    );
    Ok(())
}

/// Serves `app`'s metrics on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, app: Arc<App>) {
    let Some(metrics) = app.runtime.metrics.clone() else {
        return;
    };
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!("admin listener: accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let app = app.clone();
        let metrics = metrics.clone();
        let service = hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
            let response = answer(&request, &app, &metrics);
            async move { Ok::<_, std::convert::Infallible>(response) }
        });
        tokio::spawn(async move {
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn answer<B>(request: &Request<B>, app: &App, metrics: &Metrics) -> Response<Full<Bytes>> {
    let plain = |status: StatusCode, text: &'static str| {
        let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
        *response.status_mut() = status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        response
    };
    if request.uri().path() != "/metrics" {
        return plain(StatusCode::NOT_FOUND, "Only /metrics is served here.\n");
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "GET /metrics\n");
        response
            .headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let text = metrics.encode(&Sample {
        slots_in_use: app.admission.in_use(),
        slots_capacity: app.admission.capacity(),
        admission_waiting: app.admission.waiting(),
    });
    let mut response = Response::new(Full::new(Bytes::from(text)));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(CONTENT_TYPE),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_only_unless_asked() {
        assert!(check_address("127.0.0.1:9464".parse().unwrap(), false).is_ok());
        assert!(check_address("[::1]:9464".parse().unwrap(), false).is_ok());
        let refused = check_address("0.0.0.0:9464".parse().unwrap(), false).unwrap_err();
        assert!(
            refused.to_string().contains("--admin-listen-remote"),
            "{refused}"
        );
        assert!(check_address("0.0.0.0:9464".parse().unwrap(), true).is_ok());
    }
}
