//! moto's S3 server (`python3 -m moto.server`) for the tests that need a
//! store other than the embedded one: a real, independent S3 implementation
//! (SigV4, presigned URLs), kept in memory, so a restart loses every object.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rusty_s3::S3Action;

/// moto's S3 server on a free port, with a bucket; killed when dropped.
pub struct Moto {
    child: Child,
    pub port: u16,
}

pub const MOTO_BUCKET: &str = "spinstack-test";
pub const MOTO_KEY: &str = "AKIAMOTOTESTKEY00001";
pub const MOTO_SECRET: &str = "motosecretmotosecretmotosecretmotosecret";

impl Moto {
    pub async fn start_on(port: u16) -> Moto {
        let child = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto's server (pip install 'moto[server]')");
        let moto = Moto { child, port };
        let client = super::client();
        let bucket = moto.bucket();
        for _ in 0..200 {
            let url = bucket
                .create_bucket(&moto.credentials())
                .sign(Duration::from_secs(60));
            if let Ok(response) = client.put(url).header("content-length", "0").send().await {
                assert!(
                    response.status().is_success(),
                    "create bucket: {}",
                    response.status()
                );
                return moto;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("moto's server did not start");
    }

    pub async fn start() -> Moto {
        Self::start_on(super::free_port()).await
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn credentials(&self) -> rusty_s3::Credentials {
        rusty_s3::Credentials::new(MOTO_KEY, MOTO_SECRET)
    }

    pub fn bucket(&self) -> rusty_s3::Bucket {
        rusty_s3::Bucket::new(
            self.endpoint().parse().unwrap(),
            rusty_s3::UrlStyle::Path,
            MOTO_BUCKET,
            "us-east-1",
        )
        .unwrap()
    }

    /// The `SPIN_VARIABLE_S3_*` that point the app at this store.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        self.env_via(&self.endpoint())
    }

    /// The same, but reaching the store through `endpoint` (a proxy in
    /// front of it).
    pub fn env_via(&self, endpoint: &str) -> Vec<(&'static str, String)> {
        vec![
            ("SPIN_VARIABLE_S3_ENDPOINT", endpoint.to_owned()),
            ("SPIN_VARIABLE_S3_REGION", "us-east-1".into()),
            ("SPIN_VARIABLE_S3_BUCKET", MOTO_BUCKET.into()),
            ("SPIN_VARIABLE_S3_ACCESS_KEY_ID", MOTO_KEY.into()),
            ("SPIN_VARIABLE_S3_SECRET_ACCESS_KEY", MOTO_SECRET.into()),
            ("SPIN_VARIABLE_S3_PATH_STYLE", "true".into()),
        ]
    }

    /// The stored size of object `key`, asked of moto directly (a signed
    /// `HEAD`); `None` if it has no such object.
    pub async fn object_size(&self, key: &str) -> Option<u64> {
        let url = self
            .bucket()
            .head_object(Some(&self.credentials()), key)
            .sign(Duration::from_secs(60));
        let response = super::client().head(url).send().await.expect("HEAD moto");
        match response.status().as_u16() {
            200 => response
                .headers()
                .get("content-length")
                .and_then(|v| v.to_str().ok()?.parse().ok()),
            // moto answers 403 rather than 404 to a HEAD of a missing key
            // when the caller may not list the bucket (as AWS does).
            403 | 404 => None,
            status => panic!("HEAD {key} on moto: {status}"),
        }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The app on moto reached through a [`CutProxy`](super::cut_proxy::CutProxy)
/// (the store faults' setup): cut the proxy to cut the app off its store.
pub async fn project_behind_cut_proxy() -> (Moto, super::cut_proxy::CutProxy, super::api::Project) {
    let moto = Moto::start().await;
    let proxy = super::cut_proxy::CutProxy::start(([127, 0, 0, 1], moto.port).into()).await;
    let project = super::api::Project::spawn_with(super::api::ProjectOptions {
        env: moto.env_via(&proxy.url()),
        ..Default::default()
    })
    .await;
    (moto, proxy, project)
}
