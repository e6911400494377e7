//! A private Postgres cluster (initdb in a temporary directory, its own
//! port) for the fault tests that crash the server for real: killing the
//! machine's cluster would fail every other test running beside them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::database::FreshDatabase;
use super::free_port;

pub struct PrivatePostgres {
    pub port: u16,
    dir: tempfile::TempDir,
    bin: PathBuf,
}

/// The newest installed server's `bin` directory.
fn server_bin() -> PathBuf {
    let version = std::fs::read_dir("/usr/lib/postgresql")
        .expect("/usr/lib/postgresql: the PostgreSQL server package")
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_string_lossy().parse::<u32>().ok())
        .max()
        .expect("a PostgreSQL version in /usr/lib/postgresql");
    PathBuf::from(format!("/usr/lib/postgresql/{version}/bin"))
}

/// Runs `program` of the server as the `postgres` user when we are root
/// (the server refuses to run as root).
fn as_postgres(program: &Path) -> Command {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if is_root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

impl PrivatePostgres {
    /// A new cluster (trust authentication, user `postgres`), started.
    pub fn start() -> PrivatePostgres {
        let dir = tempfile::Builder::new()
            .prefix("spinstack-pg-")
            .tempdir()
            .unwrap();
        let _ = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(dir.path())
            .status();
        let cluster = PrivatePostgres {
            port: free_port(),
            bin: server_bin(),
            dir,
        };
        let initdb = as_postgres(&cluster.bin.join("initdb"))
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "-D",
            ])
            .arg(cluster.data())
            .output()
            .expect("run initdb");
        assert!(
            initdb.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&initdb.stderr)
        );
        cluster.run_server();
        cluster
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// `host:port`, as the app's `database_host` variable wants it.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn run_server(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let started = as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.data())
            .args(["-o", &options, "-l"])
            .arg(self.dir.path().join("server.log"))
            .args(["-w", "-t", "60", "start"])
            .output()
            .expect("run pg_ctl");
        assert!(
            started.status.success(),
            "pg_ctl start: {}{}",
            String::from_utf8_lossy(&started.stdout),
            self.log()
        );
    }

    /// What the server logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    fn postmaster_pid(&self) -> Option<String> {
        let pid_file = std::fs::read_to_string(self.data().join("postmaster.pid")).ok()?;
        pid_file.lines().next().map(str::to_owned)
    }

    /// A crash: SIGKILL to the postmaster and every backend at once (no
    /// shutdown checkpoint, connections cut without a goodbye).
    pub fn kill(&self) {
        let pid = self.postmaster_pid().expect("the server is running");
        let children = Command::new("pgrep")
            .args(["-P", &pid])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        let mut kill = Command::new("kill");
        kill.args(["-KILL", &pid]);
        kill.args(children.split_whitespace());
        assert!(kill.status().unwrap().success(), "kill -KILL the server");
        let deadline = Instant::now() + Duration::from_secs(30);
        while super::redis::accepts(self.port) {
            assert!(Instant::now() < deadline, "the killed server still accepts");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the killed server again (it recovers from its WAL).
    pub fn restart(&self) {
        self.run_server();
    }

    /// `CREATE DATABASE app`, as `ProjectOptions::database` takes it. (Its
    /// guard's drop looks for it on the system Postgres, where it is not:
    /// the cluster goes with its directory.)
    pub async fn app_database(&self) -> (FreshDatabase, String) {
        let admin = super::database::connect(&self.url("postgres")).await;
        admin.batch_execute("CREATE DATABASE app").await.unwrap();
        let database = FreshDatabase {
            name: "app_private_cluster".to_owned(),
            url: self.url("app"),
        };
        (database, self.host())
    }

    /// Client sessions connected to `database` now (the pool's connections).
    pub async fn sessions(&self, database: &str) -> i64 {
        let admin = super::database::connect(&self.url("postgres")).await;
        admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[&database],
            )
            .await
            .unwrap()
            .get(0)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "stop"])
            .output();
    }
}
