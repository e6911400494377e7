//! A component's `allowed_outbound_hosts` (Spin's syntax), templates
//! expanded at start-up. Both outbound HTTP and Postgres check it, so it is
//! its own module rather than part of either capability.

pub struct OutboundPolicy {
    allowed: spinstack_manifest::AllowedOutboundHosts,
}

impl OutboundPolicy {
    pub fn new(allowed: spinstack_manifest::AllowedOutboundHosts) -> Self {
        Self { allowed }
    }

    pub fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        self.allowed.allows(scheme, host, port)
    }
}
