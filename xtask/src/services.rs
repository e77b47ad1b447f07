//! `cargo xtask services`: makes sure the database servers the tests use are reachable.
//!
//! Each service is checked by opening a TCP connection to the host and port of its URL. When that
//! fails and the URL points at this machine, the service is started with the machine's usual
//! commands (Debian's `pg_ctlcluster` for PostgreSQL, `start-stop-daemon` for MariaDB,
//! `redis-server --daemonize yes --bind 127.0.0.1` for Redis, keeping nothing on disk) and polled
//! until it accepts connections. A service that cannot be had fails the check with a message
//! saying how to start it.
//!
//! djrs-mail's tests need Python's aiosmtpd; [`ensure_smtp_server`] installs it into a virtual
//! environment under the target directory.
//!
//! The browser tests need Chromium and chromedriver; [`ensure_browser`] installs Debian's
//! packages when they are missing.

use std::fmt;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use crate::Result;
use crate::cmd::Cmd;

/// How long one connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// How long to wait for a service to accept connections after starting it.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The pause between two connection attempts while waiting for a service.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Where Debian keeps one directory per installed PostgreSQL version.
const POSTGRES_CONFIG_DIR: &str = "/etc/postgresql";

/// The MariaDB server binary.
const MARIADBD: &str = "/usr/sbin/mariadbd";

/// The Redis server binary.
const REDIS_SERVER: &str = "/usr/bin/redis-server";

/// The directory MariaDB puts its socket and pid file in; systemd normally creates it.
const MARIADB_RUN_DIR: &str = "/run/mysqld";

/// A database server the tests need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    /// PostgreSQL.
    Postgres,
    /// MariaDB (or MySQL).
    Mariadb,
    /// Redis (or Valkey).
    Redis,
}

impl Service {
    /// Every service, in the order they are checked.
    const ALL: [Self; 3] = [Self::Postgres, Self::Mariadb, Self::Redis];

    /// The name used in progress lines.
    const fn short_name(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Mariadb => "mariadb",
            Self::Redis => "redis",
        }
    }

    /// The name used in error messages.
    const fn display_name(self) -> &'static str {
        match self {
            Self::Postgres => "PostgreSQL",
            Self::Mariadb => "MariaDB",
            Self::Redis => "Redis",
        }
    }

    /// The environment variable overriding the URL.
    const fn env_var(self) -> &'static str {
        match self {
            Self::Postgres => "DJRS_TEST_POSTGRES_URL",
            Self::Mariadb => "DJRS_TEST_MYSQL_URL",
            Self::Redis => "DJRS_TEST_REDIS_URL",
        }
    }

    /// The URL used when the environment variable is unset or empty.
    const fn default_url(self) -> &'static str {
        match self {
            Self::Postgres => "postgres://postgres@127.0.0.1:5432/test",
            Self::Mariadb => "mysql://root@127.0.0.1:3306/test",
            Self::Redis => "redis://127.0.0.1:6379",
        }
    }

    /// The port used when the URL names none.
    const fn default_port(self) -> u16 {
        match self {
            Self::Postgres => 5432,
            Self::Mariadb => 3306,
            Self::Redis => 6379,
        }
    }

    /// The URL to check: the environment variable's value or the default.
    fn url(self) -> String {
        std::env::var(self.env_var())
            .ok()
            .filter(|url| !url.trim().is_empty())
            .unwrap_or_else(|| self.default_url().to_owned())
    }

    /// Tries to start a local installation of the service.
    ///
    /// Returns whether a start command was issued, i.e. whether waiting for the service can help.
    fn start(self) -> bool {
        match self {
            Self::Postgres => start_postgres(),
            Self::Mariadb => start_mariadb(),
            Self::Redis => start_redis(),
        }
    }

    /// The command that starts the service on this kind of machine, for error messages.
    fn start_hint(self) -> String {
        match self {
            Self::Postgres => {
                let version = postgres_versions()
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| "<version>".to_owned());
                format!("pg_ctlcluster --skip-systemctl-redirect {version} main start")
            }
            Self::Mariadb => {
                format!("start-stop-daemon --start --oknodo --background --exec {MARIADBD}")
            }
            Self::Redis => format!("{REDIS_SERVER} --daemonize yes --bind 127.0.0.1"),
        }
    }

    /// The Debian package providing the server.
    const fn package(self) -> &'static str {
        match self {
            Self::Postgres => "postgresql",
            Self::Mariadb => "mariadb-server",
            Self::Redis => "redis-server",
        }
    }
}

/// The host and port a service URL points at.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Endpoint {
    /// The host name or IP address, without brackets for IPv6.
    host: String,
    /// The TCP port.
    port: u16,
}

impl Endpoint {
    /// Parses the host and port out of a URL such as `postgres://user:pass@host:5432/db?opt=1`.
    ///
    /// A missing port is `default_port`; a missing host is `localhost`. IPv6 hosts are written in
    /// brackets (`[::1]:5432`).
    fn parse(url: &str, default_port: u16) -> Result<Self> {
        let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host_port = authority
            .rsplit_once('@')
            .map_or(authority, |(_, host_port)| host_port);
        let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
            let (host, after) = bracketed
                .split_once(']')
                .ok_or_else(|| format!("unclosed `[` in the host of `{url}`"))?;
            let port =
                match after {
                    "" => None,
                    _ => Some(after.strip_prefix(':').ok_or_else(|| {
                        format!("unexpected `{after}` after the host of `{url}`")
                    })?),
                };
            (host, port)
        } else {
            match host_port.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (host_port, None),
            }
        };
        let port = match port {
            None | Some("") => default_port,
            Some(port) => port
                .parse()
                .map_err(|_| format!("invalid port `{port}` in `{url}`"))?,
        };
        let host = if host.is_empty() { "localhost" } else { host };
        Ok(Self {
            host: host.to_owned(),
            port,
        })
    }

    /// Whether the host is this machine, where the service can be started.
    fn is_local(&self) -> bool {
        matches!(self.host.as_str(), "localhost" | "::1") || self.host.starts_with("127.")
    }

    /// Whether a TCP connection to the endpoint can be opened within [`CONNECT_TIMEOUT`].
    fn is_reachable(&self) -> bool {
        let Ok(addrs) = (self.host.as_str(), self.port).to_socket_addrs() else {
            return false;
        };
        addrs
            .into_iter()
            .any(|addr| TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT).is_ok())
    }

    /// Polls the endpoint until it is reachable or `timeout` has passed.
    fn wait_until_reachable(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.is_reachable() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(POLL_INTERVAL);
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Checks every service, starting local ones that are stopped; fails naming each one that cannot
/// be had and how to start it.
pub(crate) fn ensure_all() -> Result {
    let errors: Vec<String> = Service::ALL
        .into_iter()
        .filter_map(|service| ensure(service).err())
        .chain(ensure_smtp_server().err())
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\nerror: "))
    }
}

/// Checks one service, starting it when it is local and stopped.
fn ensure(service: Service) -> Result {
    let name = service.short_name();
    let url = service.url();
    let endpoint = Endpoint::parse(&url, service.default_port())
        .map_err(|err| format!("{} ({}): {err}", service.env_var(), service.display_name()))?;
    if endpoint.is_reachable() {
        println!("{name}: ok ({endpoint})");
        return Ok(());
    }
    if !endpoint.is_local() {
        return Err(format!(
            "{} is not reachable at {endpoint} (from {}={url}): start it there, or point {} at a \
             reachable server.",
            service.display_name(),
            service.env_var(),
            service.env_var(),
        ));
    }
    println!("{name}: not reachable at {endpoint}; trying to start it");
    if service.start() {
        println!(
            "{name}: waiting up to {}s for {endpoint}",
            START_TIMEOUT.as_secs()
        );
        if endpoint.wait_until_reachable(START_TIMEOUT) {
            println!("{name}: ok ({endpoint}, started)");
            return Ok(());
        }
    }
    Err(format!(
        "{} is not reachable at {endpoint} and could not be started: install it (apt-get install \
         {}) and start it with `{}`, or point {} at a server.",
        service.display_name(),
        service.package(),
        service.start_hint(),
        service.env_var(),
    ))
}

/// The aiosmtpd release djrs-mail's tests and benchmark run against.
const AIOSMTPD: &str = "aiosmtpd==1.4.6";

/// Makes sure the SMTP server djrs-mail's tests start (Python's aiosmtpd, from PyPI) is installed
/// in a virtual environment under the target directory: `<target>/smtp-venv`. Quick when it is
/// already there.
pub(crate) fn ensure_smtp_server() -> Result {
    let venv = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(
            || crate::workspace_root().join("target"),
            std::path::PathBuf::from,
        )
        .join("smtp-venv");
    let python = venv.join("bin/python");
    let has_aiosmtpd = || {
        Cmd::new(&python)
            .args(["-c", "import aiosmtpd"])
            .succeeds_quietly()
    };
    if python.exists() && has_aiosmtpd() {
        println!("smtp: ok (aiosmtpd in {})", venv.display());
        return Ok(());
    }
    println!("smtp: installing {AIOSMTPD} into {}", venv.display());
    let hint = "install Python 3 with venv support (apt-get install -y python3 python3-venv) and \
                network access to PyPI, then run `cargo xtask services`";
    if !python.exists() {
        Cmd::new("python3")
            .args([
                std::ffi::OsStr::new("-m"),
                "venv".as_ref(),
                venv.as_os_str(),
            ])
            .run()
            .map_err(|err| format!("creating {} failed ({err}); {hint}", venv.display()))?;
    }
    Cmd::new(venv.join("bin/pip"))
        .args(["install", "--quiet", AIOSMTPD])
        .run()
        .map_err(|err| format!("installing {AIOSMTPD} failed ({err}); {hint}"))?;
    if has_aiosmtpd() {
        println!("smtp: ok (installed)");
        Ok(())
    } else {
        Err(format!(
            "aiosmtpd is still not importable from {}; {hint}",
            python.display()
        ))
    }
}

/// The browser and WebDriver server the browser tests drive (Debian's `chromium` and
/// `chromium-driver` packages).
const BROWSER_BINARIES: [&str; 2] = ["/usr/bin/chromium", "/usr/bin/chromedriver"];

/// The Debian packages providing [`BROWSER_BINARIES`].
const BROWSER_PACKAGES: [&str; 2] = ["chromium", "chromium-driver"];

/// Makes sure Chromium and chromedriver are installed for the browser tests, installing
/// Debian's packages with `apt-get` (as root, non-interactively) when one is missing.
pub(crate) fn ensure_browser() -> Result {
    let missing: Vec<&str> = BROWSER_BINARIES
        .into_iter()
        .filter(|binary| !Path::new(binary).exists())
        .collect();
    if missing.is_empty() {
        println!("chromium: ok ({})", BROWSER_BINARIES.join(", "));
        return Ok(());
    }
    let install_hint = format!("apt-get install -y {}", BROWSER_PACKAGES.join(" "));
    if !is_root() {
        return Err(format!(
            "{} missing for the browser tests; install them as root: {install_hint}",
            missing.join(" and ")
        ));
    }
    println!(
        "chromium: {} missing; installing {}",
        missing.join(" and "),
        BROWSER_PACKAGES.join(" ")
    );
    let apt = |args: &[&str]| {
        Cmd::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .run()
    };
    apt(&["update"])
        .and_then(|()| apt(&[&["install", "-y"][..], &BROWSER_PACKAGES[..]].concat()))
        .map_err(|err| format!("installing the browser failed ({err}); run `{install_hint}`"))?;
    match BROWSER_BINARIES
        .into_iter()
        .find(|binary| !Path::new(binary).exists())
    {
        None => {
            println!("chromium: ok (installed)");
            Ok(())
        }
        Some(binary) => Err(format!(
            "{binary} is still missing after `{install_hint}`; check the package sources"
        )),
    }
}

/// Whether this process runs as root (real user id 0), read from `/proc/self/status`.
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().next())
            == Some("0")
    })
}

/// The installed PostgreSQL versions: the directory names in [`POSTGRES_CONFIG_DIR`], sorted.
fn postgres_versions() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(POSTGRES_CONFIG_DIR) else {
        return Vec::new();
    };
    let mut versions: Vec<String> = entries
        .filter_map(std::result::Result::ok)
        .filter(|entry| entry.path().is_dir())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .collect();
    versions.sort();
    versions
}

/// Starts the `main` cluster of every installed PostgreSQL version; returns whether any start
/// command was issued.
fn start_postgres() -> bool {
    let versions = postgres_versions();
    if versions.is_empty() {
        println!("postgres: no clusters in {POSTGRES_CONFIG_DIR}; is PostgreSQL installed?");
        return false;
    }
    for version in &versions {
        let cmd = Cmd::new("pg_ctlcluster").args([
            "--skip-systemctl-redirect",
            version.as_str(),
            "main",
            "start",
        ]);
        println!("postgres: running `{cmd}`");
        if let Err(err) = cmd.run() {
            println!("postgres: {err}");
        }
    }
    true
}

/// Starts the MariaDB server in the background; returns whether the start command was issued.
fn start_mariadb() -> bool {
    if !Path::new(MARIADBD).exists() {
        println!("mariadb: {MARIADBD} not found; is MariaDB installed?");
        return false;
    }
    if !Path::new(MARIADB_RUN_DIR).exists() {
        // systemd creates the socket directory at boot; without it the server cannot start.
        let cmd = Cmd::new("install").args(["-d", "-o", "mysql", "-g", "mysql", MARIADB_RUN_DIR]);
        println!("mariadb: running `{cmd}`");
        if let Err(err) = cmd.run() {
            println!("mariadb: {err}");
        }
    }
    let cmd = Cmd::new("start-stop-daemon").args([
        "--start",
        "--oknodo",
        "--background",
        "--exec",
        MARIADBD,
    ]);
    println!("mariadb: running `{cmd}`");
    match cmd.run() {
        Ok(()) => true,
        Err(err) => {
            println!("mariadb: {err}");
            false
        }
    }
}

/// Starts a Redis server in the background, bound to 127.0.0.1 and keeping nothing on disk;
/// returns whether the start command was issued.
fn start_redis() -> bool {
    if !Path::new(REDIS_SERVER).exists() {
        println!("redis: {REDIS_SERVER} not found; is Redis installed?");
        return false;
    }
    let cmd = Cmd::new(REDIS_SERVER).args([
        "--daemonize",
        "yes",
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ]);
    println!("redis: running `{cmd}`");
    match cmd.run() {
        Ok(()) => true,
        Err(err) => {
            println!("redis: {err}");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Endpoint {
        Endpoint::parse(url, 5432).unwrap()
    }

    #[test]
    fn parses_host_and_port() {
        let endpoint = parse("postgres://postgres@127.0.0.1:5433/test");
        assert_eq!(endpoint.host, "127.0.0.1");
        assert_eq!(endpoint.port, 5433);
        assert_eq!(endpoint.to_string(), "127.0.0.1:5433");
    }

    #[test]
    fn missing_port_is_the_default() {
        assert_eq!(parse("postgres://postgres@db.example/test").port, 5432);
        assert_eq!(parse("postgres://db.example:/test").port, 5432);
        assert_eq!(
            Endpoint::parse("mysql://root@localhost", 3306).unwrap(),
            Endpoint {
                host: "localhost".to_owned(),
                port: 3306
            }
        );
    }

    #[test]
    fn handles_passwords_queries_and_ipv6() {
        let endpoint = parse("postgres://u:p@ss@host:6000/db?sslmode=disable");
        assert_eq!((endpoint.host.as_str(), endpoint.port), ("host", 6000));
        let endpoint = parse("postgres://u@[::1]:6001/db");
        assert_eq!((endpoint.host.as_str(), endpoint.port), ("::1", 6001));
        assert_eq!(endpoint.to_string(), "[::1]:6001");
        assert!(endpoint.is_local());
        assert_eq!(parse("postgres:///db").host, "localhost");
    }

    #[test]
    fn rejects_bad_ports() {
        assert!(Endpoint::parse("postgres://h:99999/db", 5432).is_err());
        assert!(Endpoint::parse("postgres://h:abc/db", 5432).is_err());
        assert!(Endpoint::parse("postgres://[::1/db", 5432).is_err());
    }

    #[test]
    fn knows_local_hosts() {
        assert!(parse("postgres://127.0.0.1/db").is_local());
        assert!(parse("postgres://localhost/db").is_local());
        assert!(!parse("postgres://db.example/db").is_local());
    }
}
