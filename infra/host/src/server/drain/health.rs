//! During the drain `GET /health` (the app's health check, API.md) answers
//! 503 from the host without running the component: a load balancer or a
//! readiness probe that still reaches this instance takes it out of
//! rotation, while the requests already in flight finish.

use std::sync::Arc;

use http::{Request, StatusCode};

use super::Draining;
use crate::host_responses;
use crate::step::{HostResponse, Next, Step};

/// The health check's path.
pub const HEALTH_PATH: &str = "/health";

pub struct HealthWhileDraining;

impl<B: Send + 'static> Step<B> for HealthWhileDraining {
    type NextBody = B;

    async fn run<N: Next<B>>(self: Arc<Self>, request: Request<B>, next: N) -> HostResponse {
        if request.uri().path() == HEALTH_PATH && request.extensions().get::<Draining>().is_some() {
            return host_responses::problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "The server is shutting down.",
            );
        }
        next.run(request).await
    }
}
