//! The embedded Postgres: a private server from the system's PostgreSQL
//! binaries, its cluster in `<state>/postgres/data`, listening on 127.0.0.1.
//!
//! Layout of `<state>/postgres/`:
//!
//! | file | what |
//! |---|---|
//! | `data/` | the cluster (`initdb`), owned by the user the server runs as |
//! | `password` | the superuser's password (0600, generated on first run) |
//! | `port` | the port last used (kept while it stays free) |
//! | `server.log` | the server's log |
//!
//! Postgres refuses to run as root: when the host is root the cluster is
//! created and served as `postgres` (if that user exists) or `nobody`. The
//! server runs in its own process group (Ctrl-C reaches only the host, which
//! stops it after the last request) and receives SIGINT (a fast shutdown)
//! when the host goes away, even if the host is killed.

use std::ffi::CString;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

use super::secrets;

/// The superuser `initdb` creates.
pub const SUPERUSER: &str = "spinstack";
/// The application's database.
pub const DATABASE: &str = "app";

/// Overrides the directory searched for `<version>/bin` (tests use it to
/// simulate a machine without PostgreSQL).
pub const ROOT_ENV: &str = "SPINSTACK_POSTGRES_ROOT";
const DEFAULT_ROOT: &str = "/usr/lib/postgresql";

const READY_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// The system's PostgreSQL server binaries.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub dir: PathBuf,
    pub major: u32,
}

impl Binaries {
    /// `initdb` and `postgres` from `PATH`, else from the newest
    /// `/usr/lib/postgresql/<version>/bin` (`$SPINSTACK_POSTGRES_ROOT`
    /// instead of `/usr/lib/postgresql` when set).
    pub fn find() -> anyhow::Result<Self> {
        let root = std::env::var_os(ROOT_ENV)
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_ROOT));
        let dir = find_on_path().or_else(|| find_newest_under(&root)).ok_or_else(|| {
            anyhow::anyhow!(
                "the embedded database needs the PostgreSQL server programs (initdb, postgres), \
                 found neither on PATH nor in {}/<version>/bin. Either install PostgreSQL \
                 (Debian/Ubuntu: `apt-get install postgresql`), or use an existing server by \
                 setting SPIN_VARIABLE_DATABASE_URL=postgres://USER:PASSWORD@HOST:PORT/DB \
                 (and SPIN_VARIABLE_DATABASE_HOST=HOST:PORT)",
                root.display()
            )
        })?;
        let major = server_major_version(&dir)?;
        Ok(Self { dir, major })
    }

    fn program(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

fn is_executable(path: &Path) -> bool {
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The directory holding both programs, following symlinks (Debian links
/// only some of them into `/usr/bin`).
fn server_dir_of(initdb: &Path) -> Option<PathBuf> {
    let real = initdb.canonicalize().ok()?;
    let dir = real.parent()?;
    (is_executable(&dir.join("initdb")) && is_executable(&dir.join("postgres")))
        .then(|| dir.to_path_buf())
}

fn find_on_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("initdb"))
        .filter(|initdb| is_executable(initdb))
        .find_map(|initdb| server_dir_of(&initdb))
}

fn find_newest_under(root: &Path) -> Option<PathBuf> {
    let mut versions: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir(root)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let version: Option<Vec<u32>> = name.split('.').map(|p| p.parse().ok()).collect();
            Some((version?, entry.path().join("bin")))
        })
        .collect();
    versions.sort();
    versions
        .into_iter()
        .rev()
        .find_map(|(_, bin)| server_dir_of(&bin.join("initdb")))
}

/// `postgres --version` → its major version ("postgres (PostgreSQL) 15.8").
fn server_major_version(dir: &Path) -> anyhow::Result<u32> {
    let output = Command::new(dir.join("postgres"))
        .arg("--version")
        .output()
        .with_context(|| format!("cannot run {}", dir.join("postgres").display()))?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.split_whitespace()
        .last()
        .and_then(|v| v.split(['.', ' ']).next())
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("cannot read the version of PostgreSQL from {text:?}"))
}

/// The unprivileged account the server runs as when the host is root.
#[derive(Debug, Clone)]
struct RunAs {
    name: String,
    uid: u32,
    gid: u32,
}

fn run_as() -> anyhow::Result<Option<RunAs>> {
    // SAFETY: geteuid cannot fail and has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    for name in ["postgres", "nobody"] {
        if let Some((uid, gid)) = lookup_user(name) {
            return Ok(Some(RunAs {
                name: name.to_owned(),
                uid,
                gid,
            }));
        }
    }
    anyhow::bail!(
        "the host runs as root, which Postgres refuses, and there is neither a `postgres` nor a \
         `nobody` user to run the embedded database as"
    )
}

fn lookup_user(name: &str) -> Option<(u32, u32)> {
    let name = CString::new(name).ok()?;
    let mut buffer = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: a zeroed `passwd` is a valid out-parameter; getpwnam_r writes
    // its strings into `buffer`, whose length we pass, and sets `result` to
    // null or to `&mut entry`.
    unsafe {
        let mut entry: libc::passwd = std::mem::zeroed();
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwnam_r(
            name.as_ptr(),
            &mut entry,
            buffer.as_mut_ptr(),
            buffer.len(),
            &mut result,
        );
        (rc == 0 && !result.is_null()).then_some((entry.pw_uid, entry.pw_gid))
    }
}

/// Gives `user` search permission on every ancestor of `path` it could not
/// traverse (Postgres must reach its data directory by its absolute path).
fn ensure_traversable(path: &Path, user: &RunAs) -> anyhow::Result<()> {
    for dir in path.ancestors().skip(1) {
        let meta = std::fs::metadata(dir)?;
        let mode = meta.permissions().mode();
        let can = mode & 0o001 != 0
            || (meta.uid() == user.uid && mode & 0o100 != 0)
            || (meta.gid() == user.gid && mode & 0o010 != 0);
        if !can {
            tracing::info!(
                "granting search permission on {} so the embedded Postgres (user {}) can reach \
                 its data",
                dir.display(),
                user.name
            );
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode | 0o001))
                .with_context(|| format!("cannot chmod {}", dir.display()))?;
        }
    }
    Ok(())
}

fn chown_tree(path: &Path, user: &RunAs) -> anyhow::Result<()> {
    std::os::unix::fs::lchown(path, Some(user.uid), Some(user.gid))
        .with_context(|| format!("cannot chown {}", path.display()))?;
    if path.symlink_metadata()?.is_dir() {
        for entry in std::fs::read_dir(path)? {
            chown_tree(&entry?.path(), user)?;
        }
    }
    Ok(())
}

/// The pid of a server still running on the cluster in `dir`
/// (`<state>/postgres`), from its `postmaster.pid`.
pub fn running_server(dir: &Path) -> Option<i32> {
    let text = std::fs::read_to_string(dir.join("data").join("postmaster.pid")).ok()?;
    let pid: i32 = text.lines().next()?.trim().parse().ok()?;
    // SAFETY: signal 0 only checks that the process exists.
    let alive = pid > 0
        && (unsafe { libc::kill(pid, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM));
    alive.then_some(pid)
}

/// The running embedded server. Dropping it stops the server.
pub struct EmbeddedPostgres {
    port: u16,
    password: String,
    dir: PathBuf,
    server: Option<Server>,
}

struct Server {
    child: Child,
    /// The thread that spawned the child: the kernel sends the child SIGINT
    /// when it ends (PR_SET_PDEATHSIG follows the spawning thread), so it
    /// lives exactly as long as the server should.
    keeper: std::thread::JoinHandle<()>,
    release: std::sync::mpsc::Sender<()>,
}

impl EmbeddedPostgres {
    /// Initialises the cluster in `dir/data` on first use, starts the server
    /// on 127.0.0.1, waits until it accepts connections and creates the
    /// application's database.
    pub async fn start(dir: &Path) -> anyhow::Result<Self> {
        let dir = dir.to_path_buf();
        let mut pg = tokio::task::spawn_blocking(move || Self::spawn(dir))
            .await
            .context("embedded Postgres start-up panicked")??;
        let ready = pg.wait_ready().await;
        if let Err(e) = ready {
            pg.stop();
            return Err(e);
        }
        Ok(pg)
    }

    /// `postgres://spinstack:<password>@127.0.0.1:<port>/app`.
    pub fn database_url(&self) -> String {
        self.url_for(DATABASE)
    }

    fn url_for(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{database}",
            self.password, self.port
        )
    }

    /// `127.0.0.1:<port>`.
    pub fn host_port(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn spawn(dir: PathBuf) -> anyhow::Result<Self> {
        let binaries = Binaries::find()?;
        let user = run_as()?;
        let data = dir.join("data");
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        // Others may pass through (to `data`, owned by the server's user)
        // but not list or read the password.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o711))?;
        if let Some(user) = &user {
            ensure_traversable(&data, user)?;
        }

        let password_file = dir.join("password");
        let password = match std::fs::read_to_string(&password_file) {
            Ok(text) if !text.trim().is_empty() => text.trim().to_owned(),
            _ => {
                let password = secrets::random_token(32, secrets::ALPHANUMERIC);
                secrets::write_private(&password_file, &format!("{password}\n"))?;
                password
            }
        };

        if data.join("PG_VERSION").exists() {
            check_cluster_version(&data, &binaries)?;
            if let Some(user) = &user
                && std::fs::metadata(&data)?.uid() != user.uid
            {
                chown_tree(&data, user)?;
            }
        } else {
            init_cluster(&binaries, &dir, &data, &password, user.as_ref())?;
        }

        wait_for_previous_server(&dir)?;
        let port = secrets::loopback_port(&dir.join("port"))?;
        let log_path = dir.join("server.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("cannot open {}", log_path.display()))?;

        let mut command = Command::new(binaries.program("postgres"));
        command
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "unix_socket_directories="])
            // Loopback only: TLS would add nothing (its clients say no
            // sslmode, so they ask for it only if offered).
            .args(["-c", "ssl=off"])
            .env_clear()
            .env("LC_ALL", "C")
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0);
        if let Some(user) = &user {
            command.uid(user.uid).gid(user.gid);
        }
        // SAFETY: the closure runs in the child between fork and exec and
        // only makes async-signal-safe calls (prctl, getppid, _exit).
        // It runs after the uid change, which would clear the setting.
        let parent = std::process::id() as libc::pid_t;
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT, 0, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }

        let (spawned_tx, spawned_rx) = std::sync::mpsc::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let keeper = std::thread::Builder::new()
            .name("embedded-postgres".into())
            .spawn(move || {
                let _ = spawned_tx.send(command.spawn());
                // Until the server has stopped (or the host is going away).
                let _ = released.recv();
            })?;
        let child = spawned_rx
            .recv()
            .context("embedded Postgres keeper thread died")?
            .with_context(|| format!("cannot start {}", binaries.program("postgres").display()))?;
        tracing::info!(
            "embedded Postgres {} starting on 127.0.0.1:{port} (data in {}{})",
            binaries.major,
            data.display(),
            user.as_ref()
                .map(|u| format!(", running as {}", u.name))
                .unwrap_or_default()
        );
        Ok(Self {
            port,
            password,
            dir,
            server: Some(Server {
                child,
                keeper,
                release,
            }),
        })
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let admin = self.url_for("postgres");
        let client = loop {
            if let Some(server) = &mut self.server
                && let Some(status) = server.child.try_wait()?
            {
                anyhow::bail!(
                    "the embedded Postgres exited during start-up ({status}); its log ({}) \
                     ends with:\n{}",
                    self.dir.join("server.log").display(),
                    log_tail(&self.dir.join("server.log"))
                );
            }
            match tokio_postgres::connect(&admin, tokio_postgres::NoTls).await {
                Ok((client, connection)) => {
                    tokio::spawn(async move {
                        let _ = connection.await;
                    });
                    break client;
                }
                Err(e) if Instant::now() > deadline => {
                    anyhow::bail!(
                        "the embedded Postgres did not accept connections within {}s ({e}); \
                         its log ({}) ends with:\n{}",
                        READY_TIMEOUT.as_secs(),
                        self.dir.join("server.log").display(),
                        log_tail(&self.dir.join("server.log"))
                    );
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        let exists = client
            .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&DATABASE])
            .await?
            .is_some();
        if !exists {
            client
                .batch_execute(&format!("CREATE DATABASE {DATABASE}"))
                .await
                .context("cannot create the application database")?;
            tracing::info!("embedded Postgres: created database {DATABASE:?}");
        }
        tracing::info!(
            "embedded Postgres ready at postgres://{SUPERUSER}@127.0.0.1:{}/{DATABASE} \
             (password in {})",
            self.port,
            self.dir.join("password").display()
        );
        Ok(())
    }

    /// Stops the server (fast shutdown: open sessions are ended), off the
    /// async threads.
    pub async fn shutdown(mut self) {
        let _ = tokio::task::spawn_blocking(move || self.stop()).await;
    }

    fn stop(&mut self) {
        let Some(mut server) = self.server.take() else {
            return;
        };
        let pid = server.child.id() as libc::pid_t;
        if matches!(server.child.try_wait(), Ok(None)) {
            // SAFETY: sending a signal to our own child.
            unsafe { libc::kill(pid, libc::SIGINT) };
            let deadline = Instant::now() + STOP_TIMEOUT;
            loop {
                match server.child.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) if Instant::now() > deadline => {
                        tracing::warn!("embedded Postgres did not stop in time; quitting it");
                        // SAFETY: as above; SIGQUIT is an immediate shutdown.
                        unsafe { libc::kill(pid, libc::SIGQUIT) };
                        let _ = server.child.wait();
                        break;
                    }
                    Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
            tracing::info!("embedded Postgres stopped");
        }
        let _ = server.release.send(());
        let _ = server.keeper.join();
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}

fn check_cluster_version(data: &Path, binaries: &Binaries) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(data.join("PG_VERSION"))?;
    let cluster: u32 = text.trim().parse().unwrap_or(0);
    anyhow::ensure!(
        cluster == binaries.major,
        "the embedded database in {} was created by PostgreSQL {cluster}, but the server \
         programs found ({}) are PostgreSQL {}; install PostgreSQL {cluster}, or start afresh \
         with `spinstack up --reset` (deletes the local data)",
        data.display(),
        binaries.dir.display(),
        binaries.major
    );
    Ok(())
}

fn init_cluster(
    binaries: &Binaries,
    dir: &Path,
    data: &Path,
    password: &str,
    user: Option<&RunAs>,
) -> anyhow::Result<()> {
    // An interrupted earlier initdb may have left a partial cluster.
    if data.exists() {
        std::fs::remove_dir_all(data)
            .with_context(|| format!("cannot clear {}", data.display()))?;
    }
    std::fs::create_dir(data).with_context(|| format!("cannot create {}", data.display()))?;
    std::fs::set_permissions(data, std::fs::Permissions::from_mode(0o700))?;
    let pwfile = dir.join(".initdb-password");
    secrets::write_private(&pwfile, password)?;
    if let Some(user) = user {
        chown_tree(data, user)?;
        chown_tree(&pwfile, user)?;
    }
    tracing::info!(
        "embedded Postgres: creating the database cluster in {}",
        data.display()
    );
    let mut command = Command::new(binaries.program("initdb"));
    command
        .arg("-D")
        .arg(data)
        .args(["-U", SUPERUSER, "--auth=scram-sha-256", "-E", "UTF8"])
        .args(["--locale=C", "--no-instructions"])
        .arg(format!("--pwfile={}", pwfile.display()))
        .env_clear()
        .env("LC_ALL", "C")
        .current_dir(dir)
        .stdin(Stdio::null());
    if let Some(user) = user {
        command.uid(user.uid).gid(user.gid);
    }
    let output = command.output();
    let _ = std::fs::remove_file(&pwfile);
    let output =
        output.with_context(|| format!("cannot run {}", binaries.program("initdb").display()))?;
    if !output.status.success() {
        let _ = std::fs::remove_dir_all(data);
        anyhow::bail!(
            "initdb failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// A server from an earlier run that is still shutting down (its host was
/// killed) holds the cluster's lock: give it time to go.
fn wait_for_previous_server(dir: &Path) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while let Some(pid) = running_server(dir) {
        if Instant::now() > deadline {
            anyhow::bail!(
                "a Postgres server (pid {pid}) is still running on {}; is another spinstack \
                 using this state directory?",
                dir.join("data").display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

/// The last lines of a log file.
fn log_tail(path: &Path) -> String {
    let Ok(mut file) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(4096)));
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_version_directory_wins() {
        let root = tempfile::tempdir().unwrap();
        for version in ["9.6", "13", "15", "notaversion"] {
            let bin = root.path().join(version).join("bin");
            std::fs::create_dir_all(&bin).unwrap();
            for program in ["initdb", "postgres"] {
                let path = bin.join(program);
                std::fs::write(&path, "#!/bin/sh\n").unwrap();
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
        }
        // 15 lacks `postgres`: skipped.
        std::fs::remove_file(root.path().join("15/bin/postgres")).unwrap();
        let found = find_newest_under(root.path()).unwrap();
        assert!(found.ends_with("13/bin"), "{}", found.display());
        assert_eq!(find_newest_under(&root.path().join("missing")), None);
    }

    #[test]
    fn a_dead_pid_is_not_a_running_server() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(running_server(dir.path()), None);
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        std::fs::write(dir.path().join("data/postmaster.pid"), "999999999\n/x\n").unwrap();
        assert_eq!(running_server(dir.path()), None);
        let me = std::process::id();
        std::fs::write(dir.path().join("data/postmaster.pid"), format!("{me}\n")).unwrap();
        assert_eq!(running_server(dir.path()), Some(me as i32));
    }
}
