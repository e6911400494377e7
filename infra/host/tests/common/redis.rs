//! A private `redis-server` for tests that stop the cache for real.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::free_port;

/// Whether something listens on the loopback `port`.
pub fn accepts(port: u16) -> bool {
    TcpStream::connect_timeout(
        &SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        Duration::from_millis(500),
    )
    .is_ok()
}

/// A private Redis, nothing persisted; killed (SIGKILL) when dropped.
pub struct Redis {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl Redis {
    /// Writes a Spin runtime config whose `default` key-value store is this
    /// Redis into `dir`; its path.
    pub fn runtime_config(&self, dir: &Path) -> std::path::PathBuf {
        let path = dir.join("runtime-config.toml");
        std::fs::write(
            &path,
            format!(
                "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:{}/0\"\n",
                self.port
            ),
        )
        .unwrap();
        path
    }

    pub fn start() -> Redis {
        let dir = tempfile::tempdir().unwrap();
        let (port, child) = Self::spawn(free_port(), dir.path());
        Redis { port, dir, child }
    }

    fn spawn(port: u16, dir: &Path) -> (u16, Child) {
        let mut child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (apt-get install redis-server)");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !Self::pong(port) {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("redis-server on port {port} exited: {status}");
            }
            assert!(Instant::now() < deadline, "redis-server did not answer");
            std::thread::sleep(Duration::from_millis(20));
        }
        (port, child)
    }

    fn pong(port: u16) -> bool {
        let Ok(mut stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        let mut reply = [0u8; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut reply).is_ok()
            && &reply == b"+PONG\r\n"
    }

    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        assert!(!accepts(self.port), "Redis still accepts connections");
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        let (_, child) = Self::spawn(self.port, self.dir.path());
        self.child = child;
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
