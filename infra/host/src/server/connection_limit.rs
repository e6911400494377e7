//! At most `--max-connections` connections are served at once. Past that a
//! connection is still accepted (left in the kernel's backlog it would time
//! out on the client, and an overloaded host would keep the cost of every
//! one), answered at once and closed: over cleartext a fixed 503
//! problem+json with `Retry-After`, the same answer admission control gives
//! a request it cannot run; over TLS it is just closed (the handshake is the
//! cost being avoided). Measured need: twice the capacity as an arrival rate
//! over HTTP/1.1 became thousands of new connections a second, all accepted,
//! resident memory went from 126 to 686 MiB and most requests timed out
//! (docs/PERFORMANCE.md, "Overload"). nginx's `worker_connections` is the
//! same bound; nginx drops the connection instead of answering.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Default `--max-connections`: far above what a browser-facing deployment
/// keeps open per replica, far below the descriptors the host may use.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;

const BODY: &str = concat!(
    r#"{"type":"about:blank","title":"Service Unavailable","status":503,"#,
    r#""detail":"The server has too many connections; retry shortly."}"#
);

/// How long a refused connection's request is read (and dropped) after the
/// answer, so that closing does not reset the connection before the client
/// has read the answer (nginx's lingering close, shortened).
const LINGER: Duration = Duration::from_millis(500);

/// Answers and closes a connection past the limit.
pub async fn refuse(mut stream: TcpStream, over_tls: bool) {
    if over_tls {
        return;
    }
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
         retry-after: 1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{BODY}",
        BODY.len()
    );
    if stream.write_all(answer.as_bytes()).await.is_err() {
        return;
    }
    let _ = stream.shutdown().await;
    let mut sink = [0u8; 4096];
    let _ = tokio::time::timeout(LINGER, async {
        let mut read = 0usize;
        // Bounded: a client that keeps sending is cut at 64 KiB.
        while read < 64 * 1024 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => read += n,
            }
        }
    })
    .await;
}
