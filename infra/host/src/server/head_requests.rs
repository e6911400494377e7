//! A response to HEAD carries the headers of the GET and no body. HTTP/1.1
//! (hyper) drops such a body itself; HTTP/2 would send it as DATA, which a
//! client must treat as a protocol error. So the body is dropped here, for
//! both protocols, keeping `Content-Length` as the GET's.

use std::sync::Arc;

use http::{Method, Request};

use crate::host_responses;
use crate::step::{HostResponse, Next, Step};

pub struct HeadRequests;

impl<B: Send + 'static> Step<B> for HeadRequests {
    type NextBody = B;

    async fn run<N: Next<B>>(self: Arc<Self>, request: Request<B>, next: N) -> HostResponse {
        let head = request.method() == Method::HEAD;
        let response = next.run(request).await;
        if !head {
            return response;
        }
        // Dropping the body ends the instance's stream (and logs the
        // exchange as complete: nothing was due).
        response.map(|_| host_responses::full_body(""))
    }
}
