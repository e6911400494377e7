//! A TCP forwarder a test puts between the app and a service, so the
//! network between them can fail for real while the service keeps its
//! state: [`CutProxy::cut`] resets every open connection, mid-stream or
//! idle, and stops listening (new connections are refused, as by a host
//! that is down); [`CutProxy::restore`] listens again on the same port.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct CutProxy {
    pub port: u16,
    upstream: SocketAddr,
    /// Bumped by every cut; each connection and the accept loop watch it.
    cuts: watch::Sender<u64>,
    /// Connections being forwarded now.
    open: Arc<AtomicUsize>,
    accepting: Option<JoinHandle<()>>,
}

impl CutProxy {
    /// Forwards a free loopback port to `upstream`.
    pub async fn start(upstream: SocketAddr) -> CutProxy {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (cuts, _) = watch::channel(0);
        let mut proxy = CutProxy {
            port,
            upstream,
            cuts,
            open: Arc::new(AtomicUsize::new(0)),
            accepting: None,
        };
        proxy.serve(listener);
        proxy
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Connections open through the proxy now.
    pub fn open_connections(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// Resets every open connection and stops listening; returns how many
    /// connections it cut. Returns once the port refuses connections and
    /// the cut connections are closed.
    pub async fn cut(&mut self) -> usize {
        let cut = self.open_connections();
        self.cuts.send_modify(|n| *n += 1);
        if let Some(accepting) = self.accepting.take() {
            // The loop returns at the cut, dropping the listener.
            let _ = accepting.await;
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.open_connections() > 0 {
            assert!(Instant::now() < deadline, "cut connections did not close");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        cut
    }

    /// Listens again on the same port.
    pub async fn restore(&mut self) {
        assert!(self.accepting.is_none(), "not cut");
        let deadline = Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(listener) => break listener,
                // Only if something took the port meanwhile; tokio sets
                // SO_REUSEADDR, so the cut connections do not hold it.
                Err(e) => assert!(Instant::now() < deadline, "rebind {}: {e}", self.port),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        self.serve(listener);
    }

    fn serve(&mut self, listener: TcpListener) {
        let mut cuts = self.cuts.subscribe();
        let (upstream, open) = (self.upstream, self.open.clone());
        self.accepting = Some(tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = cuts.changed() => return,
                    accepted = listener.accept() => {
                        let Ok((client, _)) = accepted else { continue };
                        // Counted before the task runs, so a cut right now
                        // waits for this one too.
                        open.fetch_add(1, Ordering::SeqCst);
                        let (cuts, open) = (cuts.clone(), open.clone());
                        tokio::spawn(async move {
                            forward(client, upstream, cuts).await;
                            open.fetch_sub(1, Ordering::SeqCst);
                        });
                    }
                }
            }
        }));
    }
}

/// Copies both ways until either side closes or the proxy is cut. A cut
/// resets both sockets (`SO_LINGER` 0: an RST, no orderly FIN), as a link
/// that dies mid-transfer: neither side may take a half-sent request or
/// response as complete.
async fn forward(mut client: TcpStream, upstream: SocketAddr, mut cuts: watch::Receiver<u64>) {
    let _ = client.set_nodelay(true);
    let server = tokio::select! {
        _ = cuts.changed() => None,
        server = TcpStream::connect(upstream) => server.ok(),
    };
    let Some(mut server) = server else {
        let _ = client.set_zero_linger();
        return;
    };
    let _ = server.set_nodelay(true);
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        _ = cuts.changed() => {
            let _ = client.set_zero_linger();
            let _ = server.set_zero_linger();
        }
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.cuts.send_modify(|n| *n += 1);
        if let Some(accepting) = self.accepting.take() {
            accepting.abort();
        }
    }
}
