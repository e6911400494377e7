//! Reading a `text/event-stream` response as it arrives, frame by frame,
//! with a bound on every wait so a stream that stalls fails its test
//! instead of hanging it.

use std::time::Duration;

/// One frame: the fields of the lines up to a blank line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frame {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: Option<String>,
    pub retry: Option<u64>,
    /// Only comment lines (`: keep-alive`).
    pub comment_only: bool,
}

impl Frame {
    /// The `data:` as JSON (panics if there is none or it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        let data = self.data.as_deref().expect("a data field");
        serde_json::from_str(data).unwrap_or_else(|e| panic!("data is not JSON ({e}): {data}"))
    }
}

pub struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    pub fn new(response: reqwest::Response) -> Self {
        EventStream {
            response,
            buffer: String::new(),
        }
    }

    /// The next frame; `None` once the server has ended the response.
    /// Panics if nothing complete arrives within `wait`.
    pub async fn next_frame(&mut self, wait: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                return Some(parse(&block));
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .unwrap_or_else(|_| panic!("no complete frame within {wait:?}: {:?}", self.buffer))
                .expect("reading the stream");
            match chunk {
                Some(bytes) => self
                    .buffer
                    .push_str(std::str::from_utf8(&bytes).expect("UTF-8")),
                None => {
                    assert!(
                        self.buffer.trim().is_empty(),
                        "a partial frame: {:?}",
                        self.buffer
                    );
                    return None;
                }
            }
        }
    }

    /// The next frame that is an event (has `event:` or `data:`), skipping
    /// heartbeats and cursor-only frames; `None` at the end of the stream.
    pub async fn next_event(&mut self, wait: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame = self.next_frame(left).await?;
            if frame.event.is_some() || frame.data.is_some() {
                return Some(frame);
            }
        }
    }
}

fn parse(block: &str) -> Frame {
    let mut frame = Frame {
        comment_only: true,
        ..Frame::default()
    };
    for line in block.lines().filter(|line| !line.is_empty()) {
        if line.starts_with(':') {
            continue;
        }
        frame.comment_only = false;
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value).to_owned();
        match field {
            "id" => frame.id = Some(value),
            "event" => frame.event = Some(value),
            "data" => frame.data = Some(value),
            "retry" => frame.retry = value.parse().ok(),
            other => panic!("unexpected field {other:?} in {block:?}"),
        }
    }
    frame
}
