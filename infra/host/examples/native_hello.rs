//! The benchmark's baseline: a native hyper server answering every request
//! with the same bytes as the `fixture-hello` component, on the same runtime
//! configuration as spinstack (tokio multi-thread, HTTP/1.1 keep-alive).
//!
//! `cargo run --profile bench-host -p spinstack --example native_hello -- 127.0.0.1:4000`

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:4000".into());
    let listener = tokio::net::TcpListener::bind(&address).await?;
    println!("Serving http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(|_: Request<hyper::body::Incoming>| async {
                let mut response = Response::new(Full::new(Bytes::from_static(b"hello, world\n")));
                response
                    .headers_mut()
                    .insert("content-type", "text/plain".parse().unwrap());
                Ok::<_, Infallible>(response)
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
