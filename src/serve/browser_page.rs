//! The page `wsspec serve` hands a browser (a plain `GET /` without an
//! upgrade): a script that drives the browser's own `WebSocket` through the
//! selected cases the way Autobahn's client drivers do — `/getCaseCount`,
//! then each `/runCase?case=N&agent=A` as an echo client (every message sent
//! back as it came, text as text, binary as binary), then
//! `/updateReports?agent=A` — and shows its progress. The agent is the
//! browser's name and major version (`chrome-156`, `firefox-140`) unless the
//! page's `?agent=` names it; `?shutdown=1` asks serve to stop once the
//! reports are written (`wsspec browse`), and `?caseTimeout=S` bounds a
//! case the browser never sees closed. When it is done the page's title is
//! `wsspec: done`. The page is static: nothing from a request is written
//! into it.

/// The page's header fields, for HTTP/1.1 and HTTP/2 alike.
pub const HEADERS: [(&str, &str); 3] = [
    ("content-type", "text/html; charset=utf-8"),
    ("cache-control", "no-store"),
    (
        "content-security-policy",
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src ws: wss:",
    ),
];

/// The page itself.
pub fn body() -> &'static [u8] {
    PAGE.as_bytes()
}

/// The HTTP/1.1 response carrying the page.
pub fn response() -> Vec<u8> {
    let body = body();
    let mut out = "HTTP/1.1 200 OK\r\n".to_string();
    for (name, value) in HEADERS {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

/// The answer to a browser's `/favicon.ico`: nothing, quietly.
pub const NO_CONTENT: &[u8] = b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";

/// Whether a request head asks for a WebSocket upgrade.
pub fn is_upgrade(head: &[u8]) -> bool {
    let mut headers = [httparse::EMPTY_HEADER; crate::wire::handshake::MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    req.parse(head).is_ok()
        && crate::wire::handshake::header_tokens(req.headers, "upgrade")
            .iter()
            .any(|t| t == "websocket")
}

/// The agent name the page gives a browser with this `User-Agent` (the same
/// rule as the page's script, for reports and tests): the browser's name in
/// lower case and its major version.
pub fn agent_for(user_agent: &str) -> Option<String> {
    for (token, name) in [
        ("Edg/", "edge"),
        ("OPR/", "opera"),
        ("Firefox/", "firefox"),
        ("HeadlessChrome/", "chrome"),
        ("Chrome/", "chrome"),
        ("Version/", "safari"),
    ] {
        if let Some(at) = user_agent.find(token) {
            let major: String = user_agent[at + token.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if !major.is_empty() {
                return Some(format!("{name}-{major}"));
            }
        }
    }
    None
}

const PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>wsspec: testing this browser</title>
<style>
body { font: 15px/1.4 system-ui, sans-serif; margin: 2em; color: #222; background: #fff; }
@media (prefers-color-scheme: dark) { body { color: #ddd; background: #181818; } }
progress { width: 30em; }
#log { font: 12px ui-monospace, monospace; white-space: pre-wrap; }
</style>
</head>
<body>
<h1>wsspec: this browser's WebSocket under test</h1>
<p id="who"></p>
<p><progress id="bar" value="0" max="1"></progress> <span id="status">starting</span></p>
<pre id="log"></pre>
<script>
"use strict";
(async () => {
  const params = new URLSearchParams(location.search);
  const base = (location.protocol === "https:" ? "wss://" : "ws://") + location.host;
  const byId = (id) => document.getElementById(id);
  const log = (line) => { byId("log").textContent += line + "\n"; };
  const status = (text) => { byId("status").textContent = text; };
  function browserAgent() {
    const ua = navigator.userAgent;
    const rules = [["Edg/", "edge"], ["OPR/", "opera"], ["Firefox/", "firefox"],
                   ["HeadlessChrome/", "chrome"], ["Chrome/", "chrome"], ["Version/", "safari"]];
    for (const [token, name] of rules) {
      const at = ua.indexOf(token);
      if (at >= 0) {
        const major = /^\d+/.exec(ua.slice(at + token.length));
        if (major) return name + "-" + major[0];
      }
    }
    return "browser";
  }
  const agent = params.get("agent") || browserAgent();
  const shutdown = params.get("shutdown") === "1";
  const caseTimeout = 1000 * (Number(params.get("caseTimeout")) || 120);
  byId("who").textContent = "agent " + agent + " (" + navigator.userAgent + ")";

  // A control endpoint: the first text message it sends, once it has closed.
  function control(path) {
    return new Promise((resolve) => {
      let text = null;
      let ws;
      try { ws = new WebSocket(base + path); } catch (e) { log(path + ": " + e); resolve(null); return; }
      ws.onmessage = (e) => { if (text === null && typeof e.data === "string") text = e.data; };
      ws.onerror = () => {};
      ws.onclose = () => resolve(text);
    });
  }

  // One case, as an echo client; resolved when the connection has closed.
  function runCase(n) {
    return new Promise((resolve) => {
      let ws;
      const url = base + "/runCase?case=" + n + "&agent=" + encodeURIComponent(agent);
      try { ws = new WebSocket(url); } catch (e) { log("case " + n + ": " + e); resolve(); return; }
      ws.binaryType = "arraybuffer";
      const timer = setTimeout(() => {
        log("case " + n + ": still open after " + caseTimeout / 1000 + " s; closing it");
        try { ws.close(); } catch (e) {}
        resolve();
      }, caseTimeout);
      ws.onmessage = (e) => { try { ws.send(e.data); } catch (err) {} };
      ws.onerror = () => {};
      ws.onclose = () => { clearTimeout(timer); resolve(); };
    });
  }

  const count = Number(await control("/getCaseCount"));
  if (!(count > 0)) {
    status("serve did not say how many cases there are");
    document.title = "wsspec: failed";
    return;
  }
  byId("bar").max = count;
  for (let n = 1; n <= count; n++) {
    status("case " + n + " of " + count);
    await runCase(n);
    byId("bar").value = n;
  }
  status("writing the reports");
  const update = "/updateReports?agent=" + encodeURIComponent(agent) +
    (shutdown ? "&shutdownOnComplete=true" : "");
  const reply = await control(update);
  status("done: " + count + " cases" + (reply ? "; " + reply : ""));
  document.title = "wsspec: done";
})();
</script>
</body>
</html>
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_are_named_by_name_and_major_version() {
        for (ua, want) in [
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36", Some("chrome-156")),
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.8078.73 Safari/537.36", Some("chrome-156")),
            ("Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0", Some("firefox-140")),
            ("Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/130.0 Safari/537.36 Edg/130.0.1", Some("edge-130")),
            ("Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 Version/17.4 Safari/605.1.15", Some("safari-17")),
            ("curl/8.0", None),
        ] {
            assert_eq!(agent_for(ua).as_deref(), want, "{ua}");
        }
    }

    #[test]
    fn the_page_is_served_whole_and_only_without_an_upgrade() {
        let r = String::from_utf8(response()).expect("utf-8");
        let (head, body) = r.split_once("\r\n\r\n").expect("head");
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        assert!(body.contains("/getCaseCount") && body.contains("/updateReports"));
        assert!(!is_upgrade(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        assert!(is_upgrade(
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n\r\n"
        ));
    }
}
