//! The rendered Ingress: up to date when committed, what it says, and what it
//! admits it cannot say.

use super::*;
use crate::test_support::{repo_file, with};

fn render(config: &GatewayConfig) -> String {
    render_ingress(config, &IngressOptions::default()).unwrap()
}

/// The YAML document whose `metadata.name` line is `name` (and of `kind`).
fn object<'a>(rendered: &'a str, kind: &str, name: &str) -> &'a str {
    rendered
        .split("---\n")
        .find(|doc| {
            doc.contains(&format!("kind: {kind}\n")) && doc.contains(&format!("  name: {name}\n"))
        })
        .unwrap_or_else(|| panic!("no {kind} {name} in:\n{rendered}"))
}

fn annotation(doc: &str, key: &str) -> Option<String> {
    let prefix = format!("    nginx.ingress.kubernetes.io/{key}: ");
    doc.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map(|value| value.trim_matches('"').to_owned())
}

#[test]
fn the_committed_ingress_is_up_to_date() {
    let config = GatewayConfig::from_file(repo_file("infra/gateway.toml")).unwrap();
    let rendered = render(&config);
    let committed = std::fs::read_to_string(repo_file("infra/kubernetes/base/ingress.yaml"))
        .unwrap_or_default();
    assert!(
        committed == rendered,
        "infra/kubernetes/base/ingress.yaml is out of date with infra/gateway.toml: run \
         `spinstack gateway render-ingress` and commit the result"
    );
}

#[test]
fn rendering_is_deterministic_and_marked_generated() {
    let config = GatewayConfig::default();
    assert_eq!(render(&config), render(&config.clone()));
    assert!(render(&config).starts_with(INGRESS_GENERATED_NOTICE));
}

#[test]
fn each_route_is_an_ingress_with_its_limits() {
    let rendered = render(&GatewayConfig::default());
    let auth = object(&rendered, "Ingress", "spinstack-api-auth");
    assert_eq!(annotation(auth, "limit-rpm").as_deref(), Some("5"));
    // burst 5 at 5r/m: multiplier 1, exactly.
    assert_eq!(
        annotation(auth, "limit-burst-multiplier").as_deref(),
        Some("1")
    );
    assert_eq!(annotation(auth, "limit-rps"), None);
    assert!(auth.contains("          - path: \"/api/auth\"\n            pathType: Prefix\n"));
    assert!(auth.contains("                name: spinstack\n"));

    let api = object(&rendered, "Ingress", "spinstack-api");
    assert_eq!(annotation(api, "limit-rps").as_deref(), Some("30"));
    assert_eq!(annotation(api, "proxy-body-size").as_deref(), Some("1m"));

    let uploads = object(&rendered, "Ingress", "spinstack-api-uploads");
    assert_eq!(
        annotation(uploads, "proxy-body-size").as_deref(),
        Some("25m")
    );
    assert_eq!(annotation(uploads, "limit-rps").as_deref(), Some("30"));

    let root = object(&rendered, "Ingress", "spinstack-root");
    assert_eq!(annotation(root, "limit-rps"), None);
    assert_eq!(annotation(root, "limit-rpm"), None);
    assert!(root.contains("          - path: \"/\"\n            pathType: Prefix\n"));

    let ws = object(&rendered, "Ingress", "spinstack-ws");
    assert_eq!(
        annotation(ws, "proxy-read-timeout").as_deref(),
        Some("3600")
    );
}

#[test]
fn a_burst_that_is_no_multiple_of_the_rate_is_rounded_up_and_said() {
    // The committed api zone: burst 50 at 30r/s is multiplier 2, burst 60.
    let rendered = render(&GatewayConfig::default());
    let api = object(&rendered, "Ingress", "spinstack-api");
    assert_eq!(
        annotation(api, "limit-burst-multiplier").as_deref(),
        Some("2")
    );
    let said = ingress_differences(&GatewayConfig::default()).join("\n");
    assert!(
        said.contains("Zone \"api\": burst 50 is not a multiple of 30"),
        "{said}"
    );
    assert!(said.contains("multiplier 2, burst 60"), "{said}");
    // The auth zone's burst is exact: nothing to say about it.
    assert!(!said.contains("Zone \"auth\": burst"), "{said}");

    let exact = with(&[(
        "rate = \"30r/s\"\nburst = 50",
        "rate = \"25r/s\"\nburst = 50",
    )]);
    assert!(
        !ingress_differences(&exact)
            .join("\n")
            .contains("Zone \"api\": burst")
    );
    let api = object(&render(&exact), "Ingress", "spinstack-api").to_owned();
    assert_eq!(
        annotation(&api, "limit-burst-multiplier").as_deref(),
        Some("2")
    );
}

#[test]
fn the_rendered_file_says_what_annotations_cannot() {
    let rendered = render(&GatewayConfig::default());
    // api is used by /api/ and /api/uploads/: a zone per Ingress splits it.
    assert!(
        rendered.contains("# - Zone \"api\" is shared by /api/, /api/uploads/"),
        "{rendered}"
    );
    assert!(!rendered.contains("Zone \"auth\" is shared"));
    assert!(rendered.contains("#   limit-req-status-code: \"429\"\n"));
    let said = ingress_differences(&GatewayConfig::default()).join("\n");
    assert!(said.contains("ingress-nginx's zones are 5m each"), "{said}");
    assert!(
        said.contains("503 unless the controller sets limit-req-status-code"),
        "{said}"
    );
    // The header is all comments: the first object starts at the first "---".
    let header = rendered.split("---\n").next().unwrap();
    assert!(header.lines().all(|line| line.starts_with('#')), "{header}");
    // Without zones, nothing is said about rate limits.
    let none = render(&GatewayConfig::default().disabled_rate_limits());
    assert!(!none.contains("limit-req-status-code"));
    assert!(!none.contains("limit-rps"));
}

#[test]
fn security_headers_go_to_the_controller_config_map_without_tls_only_ones() {
    let rendered = render(&GatewayConfig::default());
    let headers = object(&rendered, "ConfigMap", "spinstack-response-headers");
    assert!(headers.contains("  X-Frame-Options: \"DENY\"\n"));
    assert!(headers.contains("  Content-Security-Policy: \"default-src 'self'\"\n"));
    assert!(!headers.contains("Strict-Transport-Security"));
    assert!(rendered.contains("#   add-headers: \"NAMESPACE/spinstack-response-headers\"\n"));
    assert!(rendered.contains("#   hsts-max-age: \"31536000\"\n"));
    assert!(rendered.contains("#   hsts-include-subdomains: \"true\"\n"));
}

#[test]
fn a_proxy_is_an_external_name_service_and_a_rewriting_ingress() {
    let rendered = render(&GatewayConfig::default());
    let service = object(&rendered, "Service", "spinstack-storage");
    assert!(service.contains("  type: ExternalName\n  externalName: s3.example.com\n"));
    assert!(service.contains("      port: 443\n"));
    let ingress = object(&rendered, "Ingress", "spinstack-storage");
    assert_eq!(
        annotation(ingress, "rewrite-target").as_deref(),
        Some("/$1")
    );
    assert_eq!(
        annotation(ingress, "upstream-vhost").as_deref(),
        Some("s3.example.com")
    );
    assert_eq!(
        annotation(ingress, "backend-protocol").as_deref(),
        Some("HTTPS")
    );
    assert_eq!(
        annotation(ingress, "proxy-body-size").as_deref(),
        Some("26m")
    );
    assert_eq!(annotation(ingress, "limit-rps"), None);
    assert!(ingress.contains(
        "          - path: \"/_storage/(.*)\"\n            pathType: ImplementationSpecific\n"
    ));
    assert!(ingress.contains("                name: spinstack-storage\n"));

    let minio = GatewayConfig::default()
        .with_ingress_proxy_upstream("/_storage/", "http://minio.storage.svc:9000")
        .unwrap();
    let rendered = render(&minio);
    let ingress = object(&rendered, "Ingress", "spinstack-storage");
    assert_eq!(
        annotation(ingress, "upstream-vhost").as_deref(),
        Some("minio.storage.svc:9000")
    );
    assert_eq!(
        annotation(ingress, "backend-protocol").as_deref(),
        Some("HTTP")
    );
    assert!(object(&rendered, "Service", "spinstack-storage").contains("      port: 9000\n"));
}

#[test]
fn an_address_upstream_is_refused_as_external_name() {
    let config = GatewayConfig::default()
        .with_ingress_proxy_upstream("/_storage/", "http://10.0.0.5:9000")
        .unwrap();
    let error = render_ingress(&config, &IngressOptions::default()).unwrap_err();
    assert!(error.contains("needs a DNS name, not 10.0.0.5"), "{error}");
    // Without ingress_upstream the nginx one is used: 127.0.0.1 there.
    let fallback = with(&[("ingress_upstream = \"https://s3.example.com\"\n", "")]);
    assert!(render_ingress(&fallback, &IngressOptions::default()).is_err());
}

#[test]
fn two_prefixes_with_one_name_are_refused() {
    let config = with(&[(
        "[[routes]]\nprefix = \"/ws/\"",
        "[[routes]]\nprefix = \"/w-s/\"\nzone = \"none\"\n\n[[routes]]\nprefix = \"/w_s/\"",
    )]);
    let error = render_ingress(&config, &IngressOptions::default()).unwrap_err();
    assert!(error.contains("spinstack-w-s"), "{error}");
}

#[test]
fn options_name_the_host_class_and_service() {
    let options = IngressOptions {
        host: "app.example.org".into(),
        service: "shop".into(),
        service_port: 8080,
        ingress_class: "internal".into(),
    };
    let rendered = render_ingress(&GatewayConfig::default(), &options).unwrap();
    let root = object(&rendered, "Ingress", "shop-root");
    assert!(root.contains("  ingressClassName: internal\n"));
    assert!(root.contains("    - host: app.example.org\n"));
    assert!(root.contains(
        "                name: shop\n                port:\n                  number: 8080\n"
    ));
}
