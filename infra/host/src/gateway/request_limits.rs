//! Rate limits (429) and body limits (413) before any component runs: the
//! declared length is checked up front, a chunked body as the component
//! reads it (then the answer is 413 whatever the component said).

use std::sync::Arc;

use http::Request;

use super::access_log::{RateLimitNote, ServedBy};
use super::{BodyLimit, GatewayPolicy, LimitedBody, close_connection, content_length, has_body};
use crate::metrics::notes::BodyLimitRefused;
use crate::step::{HostResponse, Next, Step};

pub struct RequestLimits(pub Arc<GatewayPolicy>);

impl<B: Send + 'static> Step<B> for RequestLimits {
    type NextBody = LimitedBody<B>;

    async fn run<N: Next<LimitedBody<B>>>(
        self: Arc<Self>,
        request: Request<B>,
        next: N,
    ) -> HostResponse {
        let client = match request
            .extensions()
            .get::<super::client_address::ClientIp>()
        {
            Some(ip) => ip.0,
            None => std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        };
        let has_body = has_body(&request);
        let admitted = self
            .0
            .admit(request.uri().path(), client, content_length(&request));
        let admitted = match admitted {
            Ok(admitted) => admitted,
            Err(refusal) => {
                let mut response = *refusal.response;
                if response.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
                    response.extensions_mut().insert(BodyLimitRefused);
                }
                if has_body {
                    close_connection(&mut response);
                }
                response
                    .extensions_mut()
                    .insert(RateLimitNote(refusal.rate_limit));
                return response;
            }
        };
        let limit = BodyLimit::default();
        let request =
            request.map(|body| LimitedBody::new(body, admitted.body_limit, limit.clone()));
        let response = next.run(request).await;
        let mut response = if limit.exceeded() {
            // The component read past the limit of a chunked body: whatever
            // it answered, the answer is 413.
            let served_by = response.extensions().get::<ServedBy>().cloned();
            let mut too_large = super::too_large();
            close_connection(&mut too_large);
            too_large.extensions_mut().insert(BodyLimitRefused);
            if let Some(served_by) = served_by {
                too_large.extensions_mut().insert(served_by);
            }
            too_large
        } else {
            response
        };
        response
            .extensions_mut()
            .insert(RateLimitNote(admitted.rate_limit));
        response
    }
}
