//! `wsspec browse BROWSER [serve options]`: a browser as the client under
//! test. It starts `serve` (every option of `serve` applies), then the
//! browser — headless, with a throwaway profile — on serve's page
//! ([`crate::serve::browser_page`]), which drives the browser's own
//! `WebSocket` through the cases and asks serve to stop once the reports are
//! written. Firefox, which cannot be told to ignore certificate errors, gets
//! `--tls-self-signed`'s throwaway CA in its profile's certificate database
//! (`certutil`, from Debian's libnss3-tools). The exit code is serve's (0, 1 for a failing case, 4 for reports
//! not written); 3 when the browser exited, or `--browse-timeout` passed,
//! before the page finished (what ran is still reported).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::Duration;

use anyhow::Context;
use tokio::sync::{oneshot, watch};

use super::args::BrowseArgs;
use super::cases::positive;

/// The exit code when the browser did not finish the page.
pub const BROWSER_DID_NOT_FINISH: u8 = 3;

/// The two families of browsers, started differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Chromium, Chrome, Edge, Brave: `--headless=new --user-data-dir`.
    Chromium,
    /// Firefox, Firefox ESR: `--headless --profile` with prefs in `user.js`.
    Firefox,
}

impl Family {
    /// Told by the program's file name.
    pub fn of(browser: &Path) -> Family {
        let name = browser
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if name.contains("firefox") || name.contains("librewolf") {
            Family::Firefox
        } else {
            Family::Chromium
        }
    }

    /// The browser's arguments before the URL.
    pub fn args(self, profile: &Path, headed: bool, secure: bool) -> Vec<String> {
        let profile = profile.display().to_string();
        match self {
            Family::Chromium => {
                let mut a = vec![
                    format!("--user-data-dir={profile}"),
                    "--no-first-run".into(),
                    "--no-default-browser-check".into(),
                    "--disable-extensions".into(),
                    "--disable-background-networking".into(),
                    "--disable-gpu".into(),
                    // As root (CI containers) Chromium refuses to start sandboxed.
                    "--no-sandbox".into(),
                ];
                if !headed {
                    a.insert(0, "--headless=new".into());
                }
                if secure {
                    // serve's certificate is its own (`--tls-self-signed`)
                    // or the user's; the browser under test is not judged
                    // on trusting it.
                    a.push("--ignore-certificate-errors".into());
                }
                a
            }
            Family::Firefox => {
                let mut a = vec!["--no-remote".into(), "--profile".into(), profile];
                if !headed {
                    a.insert(0, "--headless".into());
                }
                a
            }
        }
    }

    /// Files the profile needs before the browser starts: Firefox's
    /// preferences, and serve's throwaway CA (`ca`) in its certificate
    /// database (Firefox has no switch to ignore certificate errors, and
    /// hangs on a self-signed leaf).
    fn prepare_profile(self, dir: &Path, ca: Option<&Path>) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("making a browser profile in {}", dir.display()))?;
        if self == Family::Firefox {
            let prefs = dir.join("user.js");
            std::fs::write(&prefs, FIREFOX_PREFS)
                .with_context(|| format!("writing {}", prefs.display()))?;
            if let Some(ca) = ca {
                trust_ca(dir, ca)?;
            }
        }
        Ok(())
    }
}

/// The NSS tool that edits a Firefox profile's certificate database.
const CERTUTIL: &str = "certutil";

/// Adds `ca` as a trusted CA to the NSS database of the Firefox profile
/// `dir` (`certutil -N`, then `certutil -A -t C,,`).
fn trust_ca(dir: &Path, ca: &Path) -> anyhow::Result<()> {
    let db = format!("sql:{}", dir.display());
    let ca_arg = ca.display().to_string();
    let steps: [&[&str]; 2] = [
        &["-N", "--empty-password", "-d", &db],
        &[
            "-A",
            "-n",
            "wsspec-ca",
            "-t",
            "C,,",
            "-i",
            &ca_arg,
            "-d",
            &db,
        ],
    ];
    for args in steps {
        let out = std::process::Command::new(CERTUTIL)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    anyhow::anyhow!(
                        "`{CERTUTIL}` is not installed: Firefox over TLS needs serve's CA in \
                         its profile; install Debian's libnss3-tools (apt-get install \
                         libnss3-tools)"
                    )
                } else {
                    anyhow::Error::new(e).context(format!("cannot run {CERTUTIL}"))
                }
            })?;
        if !out.status.success() {
            anyhow::bail!(
                "{CERTUTIL} {} failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
    }
    Ok(())
}

/// Firefox preferences for an unattended run: no first-run pages or
/// telemetry, and no growing delay between WebSocket connections after a
/// failed handshake (the handshake cases fail some on purpose).
const FIREFOX_PREFS: &str = r#"user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
user_pref("app.update.enabled", false);
user_pref("network.websocket.delay-failed-reconnects", false);
"#;

/// A throwaway browser profile, removed when dropped.
struct Profile(PathBuf);

impl Profile {
    fn new(family: Family, ca: Option<&Path>) -> anyhow::Result<Profile> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir =
            std::env::temp_dir().join(format!("wsspec-browse-{}-{nanos}", std::process::id()));
        let profile = Profile(dir);
        family.prepare_profile(&profile.0, ca)?;
        Ok(profile)
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The page's URL on serve's address (a wildcard address is reached on loopback).
pub fn page_url(addr: SocketAddr, secure: bool, agent: Option<&str>) -> String {
    let host = if addr.ip().is_unspecified() {
        SocketAddr::new(
            if addr.is_ipv4() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            },
            addr.port(),
        )
    } else {
        addr
    };
    let scheme = if secure { "https" } else { "http" };
    let mut url = format!("{scheme}://{host}/?shutdown=1");
    if let Some(a) = agent {
        url.push_str("&agent=");
        url.extend(a.bytes().map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        }));
    }
    url
}

pub fn browse(args: BrowseArgs) -> anyhow::Result<ExitCode> {
    positive(args.browse_timeout, "--browse-timeout")?;
    let family = Family::of(&args.browser);
    let mut p = match super::serve::prepare(args.serve)? {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    let (stop, stopped) = watch::channel(false);
    p.config.stop = Some(stopped);
    let secure = p.config.secure;
    let total = p.total;
    let ca = p.ca.clone();
    if secure && ca.is_none() && family == Family::Firefox {
        eprintln!(
            "note: Firefox trusts only the CAs in its profile; with --tls-cert it may refuse \
             serve's certificate (--tls-self-signed has its CA added to the profile)"
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let (ready, at) = oneshot::channel();
        let listen = p.listen.clone();
        let serving = crate::serve::serve(&listen, p.config, p.reporters, move |addr| {
            let _ = ready.send(addr);
        });
        tokio::pin!(serving);
        let addr = tokio::select! {
            addr = at => addr.ok(),
            served = &mut serving => {
                served.with_context(|| format!("cannot listen on {listen}"))?;
                None
            }
        };
        let Some(addr) = addr else {
            anyhow::bail!("serve stopped before it listened on {listen}");
        };
        let url = page_url(addr, secure, args.agent.as_deref());
        println!(
            "wsspec browse: {total} cases; {} on {url}",
            args.browser.display()
        );
        let profile = Profile::new(family, ca.as_deref())?;
        let log_path = profile.0.join("wsspec-browser.log");
        let log = std::fs::File::create(&log_path)
            .with_context(|| format!("creating {}", log_path.display()))?;
        let mut child = tokio::process::Command::new(&args.browser)
            .args(family.args(&profile.0, args.headed, secure))
            .args(&args.browser_args)
            .arg(&url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start the browser {}", args.browser.display()))?;
        let deadline = tokio::time::sleep(Duration::from_secs_f64(args.browse_timeout));
        tokio::pin!(deadline);
        let mut unfinished: Option<String> = None;
        let served = loop {
            tokio::select! {
                served = &mut serving => break served,
                status = child.wait(), if unfinished.is_none() => {
                    let how = status.map_or_else(|e| e.to_string(), |s| s.to_string());
                    unfinished = Some(format!("the browser exited ({how}) before the page finished"));
                    let _ = stop.send(true);
                }
                () = &mut deadline, if unfinished.is_none() => {
                    unfinished = Some(format!(
                        "the page did not finish within --browse-timeout {} s",
                        args.browse_timeout
                    ));
                    let _ = stop.send(true);
                }
            }
        };
        let _ = child.start_kill();
        let _ = child.wait().await;
        let served = served.with_context(|| format!("serving on {listen}"))?;
        if let Some(why) = unfinished {
            eprintln!("error: {why}; the browser's last output:");
            let text = std::fs::read_to_string(&log_path).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            for line in &lines[lines.len().saturating_sub(15)..] {
                eprintln!("  {}", crate::report::console::terminal_safe(line));
            }
            return Ok(ExitCode::from(BROWSER_DID_NOT_FINISH));
        }
        Ok(super::serve::exit_code(&served))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_family_comes_from_the_program_name() {
        assert_eq!(Family::of(Path::new("/usr/bin/chromium")), Family::Chromium);
        assert_eq!(
            Family::of(Path::new("google-chrome-stable")),
            Family::Chromium
        );
        assert_eq!(
            Family::of(Path::new("/usr/bin/firefox-esr")),
            Family::Firefox
        );
        assert_eq!(Family::of(Path::new("Firefox")), Family::Firefox);
    }

    #[test]
    fn headless_unless_headed_and_the_profile_is_the_throwaway_one() {
        let p = Path::new("/tmp/p");
        let c = Family::Chromium.args(p, false, false);
        assert_eq!(c[0], "--headless=new");
        assert!(c.contains(&"--user-data-dir=/tmp/p".to_string()));
        assert!(!c.iter().any(|a| a.contains("certificate")));
        assert!(Family::Chromium
            .args(p, false, true)
            .contains(&"--ignore-certificate-errors".to_string()));
        assert!(!Family::Chromium
            .args(p, true, false)
            .iter()
            .any(|a| a.starts_with("--headless")));
        assert_eq!(
            Family::Firefox.args(p, false, false),
            ["--headless", "--no-remote", "--profile", "/tmp/p"]
        );
    }

    #[test]
    fn the_page_url_reaches_a_wildcard_listener_on_loopback() {
        let any: SocketAddr = "0.0.0.0:9001".parse().expect("addr");
        assert_eq!(
            page_url(any, false, None),
            "http://127.0.0.1:9001/?shutdown=1"
        );
        let v6: SocketAddr = "[::]:9001".parse().expect("addr");
        assert_eq!(
            page_url(v6, true, Some("my browser/1")),
            "https://[::1]:9001/?shutdown=1&agent=my%20browser%2F1"
        );
    }
}
