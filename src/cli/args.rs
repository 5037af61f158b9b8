//! The command line's shape: every subcommand, flag and help text (clap).
//! `main.rs` parses into [`Cli`]; [`super::execute`] carries it out.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (case corpus ",
    env!("WSSPEC_CORPUS_VERSION"),
    ")"
);

/// WebSocket protocol conformance harness: replays readable YAML cases against
/// a server and reports verdicts with the bytes that prove them.
#[derive(Parser)]
#[command(name = "wsspec", version = VERSION, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run cases against a WebSocket server (default: the embedded reference server).
    #[command(
        after_help = "Examples:\n  wsspec run                                  # test the embedded reference server\n  wsspec run ws://127.0.0.1:9001 --cases '5.*' --junit junit.xml\n  wsspec run ws://localhost:8080/ws --header 'Authorization: Bearer t' --timeout-scale 3\n  wsspec run ws://127.0.0.1:9001 ws://127.0.0.1:9002 --agent a --agent b   # one report, a column each\n  wsspec run --spec fuzzingclient.json        # Autobahn's spec file, wstest's case selection"
    )]
    Run(Box<RunArgs>),
    /// List the cases (id, requirement, roles, title).
    #[command(after_help = "Example:\n  wsspec list --cases '2.*'")]
    List(ListArgs),
    /// Join the results of `run --partition` shards into one run's reports.
    #[command(
        after_help = "Example:\n  wsspec merge shard-1/ shard-2/ shard-3/ --report-dir reports"
    )]
    Merge(MergeArgs),
    /// Validate case files (default: the embedded corpus).
    #[command(after_help = "Example:\n  wsspec check my-cases/ extra.yaml")]
    Check {
        /// Case files or directories.
        paths: Vec<PathBuf>,
    },
    /// Test WebSocket clients: Autobahn's fuzzing-server protocol, for existing client drivers.
    #[command(
        after_help = "Example:\n  wsspec serve --listen 127.0.0.1:9001 --cases '1.*'\n  wsspec serve --spec fuzzingserver.json   # Autobahn's spec file\n  # then run your driver: /getCaseCount, /runCase?case=N&agent=A, /updateReports?agent=A&shutdownOnComplete=true"
    )]
    Serve(Box<ServeArgs>),
    /// Test a browser's WebSocket: serve, and the browser (headless, a
    /// throwaway profile) on serve's page, which runs the cases.
    #[command(
        after_help = "Examples:\n  wsspec browse /usr/bin/chromium --cases '1.*' --cases '2.*'\n  wsspec browse firefox-esr --listen 127.0.0.1:0 --report-dir reports/browsers\n  # any browser by hand: wsspec serve, then open http://127.0.0.1:9001/ in it"
    )]
    Browse(Box<BrowseArgs>),
    /// Drive a fuzzing server (`wsspec serve` or Autobahn's) with the embedded reference client.
    #[command(
        name = "reference-client",
        after_help = "Example:\n  wsspec reference-client ws://127.0.0.1:9001 --agent wsspec-reference"
    )]
    ReferenceClient {
        /// The fuzzing server's URL.
        url: String,
        /// The agent name reported to the server.
        #[arg(long, default_value = "wsspec-reference-client")]
        agent: String,
        /// Ask the server to shut down after writing reports.
        #[arg(long)]
        shutdown: bool,
        #[command(flatten)]
        tls: super::tls::ClientTlsArgs,
    },
    /// Review stored snapshots: review, accept, reject, prune.
    #[command(subcommand)]
    Snapshots(SnapshotsCommand),
    /// Run the embedded reference echo server on its own.
    #[command(
        name = "reference-server",
        after_help = "Example:\n  wsspec reference-server --listen 127.0.0.1:9001"
    )]
    ReferenceServer {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:9001")]
        listen: String,
        #[command(flatten)]
        tls: super::tls::ServerTlsArgs,
    },
}

#[derive(Subcommand)]
pub enum SnapshotsCommand {
    /// Show every pending change (`.snap.new`) with its diff.
    #[command(after_help = "Example:\n  wsspec snapshots review snapshots/myserver")]
    Review { dir: PathBuf },
    /// Apply pending changes (all, or the cases a glob selects).
    #[command(after_help = "Example:\n  wsspec snapshots accept snapshots/myserver --cases '7.*'")]
    Accept {
        dir: PathBuf,
        #[arg(long = "cases", value_name = "GLOB")]
        cases: Option<String>,
    },
    /// Drop pending changes (all, or the cases a glob selects).
    #[command(after_help = "Example:\n  wsspec snapshots reject snapshots/myserver")]
    Reject {
        dir: PathBuf,
        #[arg(long = "cases", value_name = "GLOB")]
        cases: Option<String>,
    },
    /// Remove snapshots of cases that no longer exist.
    #[command(
        after_help = "Example:\n  wsspec snapshots prune snapshots/myserver --cases-dir my-cases/"
    )]
    Prune {
        dir: PathBuf,
        /// Case files whose ids also count as existing; repeatable.
        #[arg(long = "cases-dir", value_name = "DIR")]
        cases_dir: Vec<PathBuf>,
    },
}

#[derive(Args, Clone)]
pub struct Selecting {
    /// Select cases by id glob (`5.*`, `1.1.*`); repeatable.
    #[arg(long = "cases", value_name = "GLOB", id = "cases")]
    pub cases: Vec<String>,
    /// Leave out cases by id glob; repeatable.
    #[arg(long = "exclude", value_name = "GLOB", id = "exclude")]
    pub exclude: Vec<String>,
    /// Add the case files in DIR to the embedded corpus; repeatable.
    #[arg(long = "cases-dir", value_name = "DIR")]
    pub cases_dir: Vec<PathBuf>,
}

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9001")]
    pub listen: String,
    // --- Autobahn's spec files (src/cli/spec.rs) ---
    /// Autobahn's fuzzingserver.json: its url (the listen address), cases,
    /// exclude-cases, exclude-agent-cases and outdir, selected as wstest
    /// selects.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["cases", "exclude"])]
    pub spec: Option<PathBuf>,
    // --- end of spec files ---
    /// Colour the outcomes: auto (on a terminal, unless NO_COLOR is set),
    /// always or never.
    #[arg(long, value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub color: String,
    #[command(flatten)]
    pub select: Selecting,
    /// Folder for the reports: one subfolder per agent, an overview
    /// index.html, and Autobahn's index.json with its per-case files.
    #[arg(long, default_value = "reports/clients")]
    pub report_dir: PathBuf,
    /// Also serve HTTP/2 with extended CONNECT (RFC 8441), on the same
    /// port: h2c with prior knowledge and, under TLS, ALPN `h2` (so that
    /// browsers open their WebSockets as HTTP/2 streams). Cases whose
    /// handshake is HTTP/1.1 bytes are left out.
    #[arg(long)]
    pub h2: bool,
    /// Multiply every wait and deadline.
    #[arg(long, default_value_t = 1.0)]
    pub timeout_scale: f64,
    /// Largest message wsspec inflates and keeps, in bytes (suffixes K, M,
    /// G: 1024-based); a compressed message that inflates past it is
    /// recorded as too large and the case goes on.
    #[arg(long, value_name = "BYTES", default_value = "64M", value_parser = parse_size)]
    pub max_message_size: usize,
    /// Most events (frames, messages and the rest) one case keeps; past it
    /// frames and messages are counted, not kept, and the case is ERROR.
    /// Bounds the memory a flooding peer can take.
    #[arg(long, value_name = "N", default_value_t = 50_000, value_parser = clap::value_parser!(u64).range(100..=10_000_000))]
    pub max_events: u64,
    /// A wait also ends after this many seconds without a byte from the
    /// peer (scaled by --timeout-scale): a stalled peer costs this, not the
    /// wait's own timeout.
    #[arg(long, default_value_t = 20.0, value_name = "SECONDS")]
    pub stall_timeout: f64,
    /// Largest request head a client may send (suffixes K, M); a larger
    /// one is not answered.
    #[arg(long, value_name = "BYTES", default_value = "16K", value_parser = parse_size)]
    pub max_header_size: usize,
    /// How long a client may take to send its request head, in seconds
    /// (scaled by --timeout-scale); a connection that sends none in time is
    /// closed.
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    pub handshake_timeout: f64,
    /// Count NON-STRICT as failure.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub conf: ConfigArgs,
    #[command(flatten)]
    pub snap: SnapshotArgs,
    #[command(flatten)]
    pub tls: super::tls::ServerTlsArgs,
    /// Print a line for every case as it completes, not only the failures.
    #[arg(long, short)]
    pub verbose: bool,
}

impl SnapshotArgs {
    /// What the console says about snapshots at the end, when they are kept.
    pub fn note(&self) -> Option<crate::report::console::SnapshotNote> {
        self.snapshots
            .clone()
            .map(|dir| crate::report::console::SnapshotNote {
                dir,
                update: self.snapshots_update,
            })
    }
}

/// Snapshot options, the same for `run` and `serve`.
#[derive(Args)]
pub struct BrowseArgs {
    /// The browser to start: chromium, google-chrome, firefox-esr, … (a
    /// name on PATH or a path). Firefox-like names get Firefox's flags.
    pub browser: PathBuf,
    /// An extra argument for the browser; repeatable.
    #[arg(long = "browser-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub browser_args: Vec<String>,
    /// The browser's agent name in reports (default: its name and major
    /// version, e.g. chrome-156).
    #[arg(long)]
    pub agent: Option<String>,
    /// Stop after this many seconds if the page has not finished (what ran
    /// is reported; exit 3).
    #[arg(long, default_value_t = 900.0, value_name = "SECONDS")]
    pub browse_timeout: f64,
    /// Show the browser's window instead of running it headless.
    #[arg(long)]
    pub headed: bool,
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// The config file and the allow-list it holds (`run`, `serve`, `browse`):
/// `src/cli/config.rs` reads the file before clap parses the rest.
#[derive(Args)]
pub struct ConfigArgs {
    /// Read settings and the allow-list of expected deviations from FILE
    /// (default: wsspec.yaml in the working directory, when there is one);
    /// the command line wins over the file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Do not read wsspec.yaml from the working directory.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// A case the allow-list names that passed fails the run (stale entries
    /// are noticed).
    #[arg(long)]
    pub strict_allowlist: bool,
    /// The allow-list read from the config file.
    #[arg(skip)]
    pub allow: crate::allow::AllowList,
    /// The config file that was read, if any.
    #[arg(skip)]
    pub config_file: Option<PathBuf>,
}

impl ConfigArgs {
    /// Names the config file read, and warns of allow-list globs that name
    /// none of the selected `cases` (a typo, or a case left out).
    pub fn note(&self, cases: &[crate::case::Case]) {
        if let Some(path) = &self.config_file {
            eprintln!("config: {}", path.display());
        }
        let ids: Vec<&str> = cases.iter().map(|c| c.spec.id.as_str()).collect();
        for glob in self.allow.unmatched(&ids) {
            eprintln!(
                "warning: the allow-list entry `{glob}` names none of the {} selected",
                crate::report::console::cases(ids.len())
            );
        }
    }
}

#[derive(Args)]
pub struct SnapshotArgs {
    /// Compare every case with its stored snapshot under DIR (`server/` for
    /// run, `<agent>/server/` for run with several targets, `<agent>/client/`
    /// for serve); NEW and DRIFT fail the run.
    #[arg(long, value_name = "DIR")]
    pub snapshots: Option<PathBuf>,
    /// With --snapshots: store what was observed as the new baseline.
    #[arg(long, requires = "snapshots")]
    pub snapshots_update: bool,
}

#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub select: Selecting,
    /// Only the cases for this role: `server` (what `run` selects) or
    /// `client` (what `serve` selects). Default: every case.
    #[arg(long, value_parser = ["server", "client"])]
    pub role: Option<String>,
}

#[derive(Args)]
pub struct RunArgs {
    /// Server URL (ws://host:port/path, or wss:// for TLS); none starts the
    /// reference server. Several run one after the other into one report
    /// set: a folder per target under --report-dir and an overview.
    #[arg(value_name = "URL")]
    pub urls: Vec<String>,
    // --- several targets and Autobahn's spec files (src/cli/targets.rs,
    // src/cli/spec.rs) ---
    /// Autobahn's fuzzingclient.json: its servers, cases, exclude-cases,
    /// exclude-agent-cases and outdir, selected as wstest selects.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["urls", "agents", "cases", "exclude"])]
    pub spec: Option<PathBuf>,
    // --- end of several targets ---
    #[command(flatten)]
    pub select: Selecting,
    /// Cases run at once (I/O-bound waiting, so more than cores).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: u16,
    /// (h2c:// and h2:// URLs) Cases that share one HTTP/2 connection at
    /// once, each on its own stream. 1 (the default) gives every case a
    /// connection of its own, so that a server that ends a whole connection
    /// for one case's fault cannot touch another's verdict; more also tests
    /// the server's multiplexing and flow control.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub streams: u16,
    /// Colour the outcomes: auto (on a terminal, unless NO_COLOR is set),
    /// always or never.
    #[arg(long, value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub color: String,
    /// Multiply every wait and deadline (slow or remote targets).
    #[arg(long, default_value_t = 1.0)]
    pub timeout_scale: f64,
    /// Deadline of a case that sets none, in seconds (scaled by --timeout-scale).
    #[arg(long, default_value_t = 15.0, value_name = "SECONDS")]
    pub case_timeout: f64,
    /// Seed for keys and masks (same seed, same bytes).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Largest message wsspec inflates and keeps, in bytes (suffixes K, M,
    /// G: 1024-based); a compressed message that inflates past it is
    /// recorded as too large and the case goes on.
    #[arg(long, value_name = "BYTES", default_value = "64M", value_parser = parse_size)]
    pub max_message_size: usize,
    /// Most events (frames, messages and the rest) one case keeps; past it
    /// frames and messages are counted, not kept, and the case is ERROR.
    /// Bounds the memory a flooding peer can take.
    #[arg(long, value_name = "N", default_value_t = 50_000, value_parser = clap::value_parser!(u64).range(100..=10_000_000))]
    pub max_events: u64,
    /// A wait also ends after this many seconds without a byte from the
    /// peer (scaled by --timeout-scale): a stalled peer costs this, not the
    /// wait's own timeout.
    #[arg(long, default_value_t = 20.0, value_name = "SECONDS")]
    pub stall_timeout: f64,
    /// How long opening a TCP connection may take, in seconds (scaled by
    /// --timeout-scale).
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    pub connect_timeout: f64,
    /// How long the server's handshake response may take to arrive, in
    /// seconds (scaled by --timeout-scale).
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    pub handshake_timeout: f64,
    /// Largest handshake response head wsspec reads (suffixes K, M); a
    /// larger one makes the case ERROR.
    #[arg(long, value_name = "BYTES", default_value = "16K", value_parser = parse_size)]
    pub max_header_size: usize,
    /// Stop starting cases after this many seconds; the cases not started
    /// are ERROR (those running finish within their own deadlines).
    #[arg(long, value_name = "SECONDS")]
    pub run_timeout: Option<f64>,
    /// Run shard K of N (e.g. 2/4) of the selection, for CI jobs in
    /// parallel; `wsspec merge` joins the shards' results.
    #[arg(long, value_name = "K/N")]
    pub partition: Option<crate::case::partition::Partition>,
    /// Keep trying the first connection for this many seconds before the
    /// target counts as unreachable (exit 3): for a server still starting
    /// in the same CI job.
    #[arg(long, value_name = "SECONDS")]
    pub wait_for_target: Option<f64>,
    /// Run every case even when the target seems gone (by default, after
    /// 3 cases in a row got no byte from it and neither did a fresh
    /// connection, the cases left are ERROR).
    #[arg(long)]
    pub no_give_up: bool,

    /// Count NON-STRICT as failure.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub conf: ConfigArgs,
    /// Name of the target in reports (default: host:port); with several
    /// URLs, once per URL, in the same order.
    #[arg(long = "agent", value_name = "NAME")]
    pub agents: Vec<String>,
    /// Extra handshake header `Name: value` (e.g. for auth); repeatable.
    /// Raw requests in cases receive it through their {headers} placeholder.
    #[arg(long = "header", value_name = "NAME:VALUE")]
    pub headers: Vec<String>,
    /// Origin header sent with every handshake.
    #[arg(long)]
    pub origin: Option<String>,
    /// Subprotocol offered in every handshake (Sec-WebSocket-Protocol); repeatable.
    #[arg(long = "subprotocol", value_name = "NAME")]
    pub subprotocols: Vec<String>,
    /// Folder for junit.xml, index.html and results.json.
    #[arg(long, default_value = "reports")]
    pub report_dir: PathBuf,
    /// Write JUnit XML here instead.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Write the HTML report here instead.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Write results.json here instead.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Also write Autobahn's index.json into DIR.
    #[arg(long, value_name = "DIR")]
    pub autobahn_json: Option<PathBuf>,
    #[command(flatten)]
    pub snap: SnapshotArgs,
    #[command(flatten)]
    pub tls: super::tls::ClientTlsArgs,
    /// Print a line for every case, not only the ones that did not pass.
    #[arg(long, short)]
    pub verbose: bool,
}

/// A byte count with an optional 1024-based suffix: `4096`, `64K`, `64M`, `1G`.
pub fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => t.split_at(i),
        None => (t, ""),
    };
    let n: usize = digits
        .parse()
        .map_err(|_| format!("expected a number of bytes such as 4096, 64K or 64M, found `{s}`"))?;
    let factor: usize = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => {
            return Err(format!(
                "unknown size unit `{unit}` in `{s}` (use K, M or G)"
            ))
        }
    };
    match n.checked_mul(factor) {
        Some(0) => Err("the size must be at least 1 byte".into()),
        Some(v) => Ok(v),
        None => Err(format!("`{s}` is too large")),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_with_and_without_units() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64K"), Ok(64 << 10));
        assert_eq!(parse_size("64m"), Ok(64 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert!(parse_size("0").is_err());
        assert!(parse_size("12X").unwrap_err().contains("unknown size unit"));
        assert!(parse_size("lots").unwrap_err().contains("number of bytes"));
        assert!(parse_size("99999999999999999999G").is_err());
    }
}

#[derive(Args)]
pub struct MergeArgs {
    /// Each shard's report folder (holding results.json) or results.json itself.
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// Folder for the merged junit.xml, index.html and results.json.
    #[arg(long, default_value = "reports")]
    pub report_dir: PathBuf,
    /// Also write Autobahn's index.json into DIR.
    #[arg(long, value_name = "DIR")]
    pub autobahn_json: Option<PathBuf>,
    /// The case files the shards ran besides the embedded corpus (for the
    /// order of their cases).
    #[arg(long, value_name = "DIR")]
    pub cases_dir: Vec<PathBuf>,
}
