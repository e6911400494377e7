//! Where access-log lines go: stdout, through a buffer that a background
//! thread flushes every few milliseconds (and when it fills).
//!
//! Writing each line directly costs a syscall per request, and handing it to
//! a writer thread costs a thread wake-up per request; profiles showed both.
//! Here a request only appends to memory under a short lock.

use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tracing_subscriber::fmt::MakeWriter;

const FLUSH_EVERY: Duration = Duration::from_millis(20);
const BUFFER: usize = 64 * 1024;

#[derive(Clone)]
pub struct BufferedStdout {
    buffer: Arc<Mutex<Vec<u8>>>,
}

impl BufferedStdout {
    /// Starts the flusher thread; it lives as long as the process.
    pub fn start() -> Self {
        let writer = Self {
            buffer: Arc::new(Mutex::new(Vec::with_capacity(BUFFER))),
        };
        let flusher = writer.clone();
        std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(FLUSH_EVERY);
                    flusher.flush_now();
                }
            })
            .expect("spawn the access-log flusher");
        writer
    }

    /// Writes out what is buffered (also called at shutdown).
    pub fn flush_now(&self) {
        let pending = std::mem::take(&mut *self.buffer.lock());
        if !pending.is_empty() {
            let mut stdout = io::stdout().lock();
            let _ = stdout.write_all(&pending);
            let _ = stdout.flush();
        }
    }
}

pub struct LineWriter<'a> {
    owner: &'a BufferedStdout,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let full = {
            let mut buffer = self.owner.buffer.lock();
            buffer.extend_from_slice(bytes);
            buffer.len() >= BUFFER
        };
        if full {
            self.owner.flush_now();
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BufferedStdout {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter { owner: self }
    }
}
