//! JSON responses with the API's content type.

use serde::Serialize;
use spin_sdk::http::Response;

pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

pub fn json(status: u16, value: &impl Serialize) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    Response::builder()
        .status(status)
        .header("content-type", JSON_CONTENT_TYPE)
        .body(body)
        .build()
}

/// A response and headers that may repeat (`Set-Cookie`), which
/// `spin_sdk::http::Response` (one value per name) cannot carry.
pub struct Reply {
    pub response: Response,
    pub extra_headers: Vec<(String, String)>,
    /// Deliver due mail once the response is sent (`mail::deliver`): set
    /// by handlers that wrote mail, and by those that sweep the outbox.
    pub deliver_mail: bool,
}

impl From<Response> for Reply {
    fn from(response: Response) -> Self {
        Reply {
            response,
            extra_headers: Vec::new(),
            deliver_mail: false,
        }
    }
}

impl Reply {
    pub fn with_header(mut self, name: &str, value: String) -> Self {
        self.extra_headers.push((name.to_owned(), value));
        self
    }

    /// The same reply, delivering due mail after it is sent.
    pub fn delivering_mail(mut self) -> Self {
        self.deliver_mail = true;
        self
    }

    /// Writes the reply to the host.
    pub async fn send(self, out: spin_sdk::http::ResponseOutparam) {
        use spin_sdk::http::{Fields, OutgoingResponse};
        let mut list: Vec<(String, Vec<u8>)> = self
            .response
            .headers()
            .map(|(name, value)| (name.to_owned(), value.as_bytes().to_vec()))
            .collect();
        list.extend(
            self.extra_headers
                .into_iter()
                .map(|(name, value)| (name, value.into_bytes())),
        );
        let fields = Fields::from_list(&list).unwrap_or_else(|e| {
            eprintln!("respond: invalid response header: {e:?}");
            Fields::new()
        });
        let outgoing = OutgoingResponse::new(fields);
        let _ = outgoing.set_status_code(*self.response.status());
        let body = self.response.into_body();
        if let Err(e) = out.set_with_body(outgoing, body).await {
            eprintln!("respond: the client went away: {e:?}");
        }
    }
}

impl From<crate::Problem> for Reply {
    fn from(problem: crate::Problem) -> Self {
        problem.into_response().into()
    }
}
