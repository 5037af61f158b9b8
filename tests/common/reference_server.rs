//! `wsspec reference-server` as a child process for the tests that need the
//! reference peer on a port of its own (HTTP/1.1 and HTTP/2 on the same
//! port), killed when dropped, also when the test panics.

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

pub struct ReferenceServer {
    child: Child,
    pub port: u16,
}

impl ReferenceServer {
    pub fn start() -> ReferenceServer {
        // The port is free when picked; another process may take it before
        // the child binds it, so try a few.
        for _ in 0..5 {
            let port = free_port();
            let child = Command::new(env!("CARGO_BIN_EXE_wsspec"))
                .args(["reference-server", "--listen", &format!("127.0.0.1:{port}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start wsspec reference-server");
            let mut server = ReferenceServer { child, port };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = server.child.try_wait() {
                    break; // exited: the port was taken after all
                }
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return server;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("wsspec reference-server did not start listening");
    }

    /// The server over HTTP/1.1.
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/", self.port)
    }

    /// The same server over HTTP/2 with prior knowledge (RFC 8441).
    pub fn h2c_url(&self) -> String {
        format!("h2c://127.0.0.1:{}/", self.port)
    }
}

impl Drop for ReferenceServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
