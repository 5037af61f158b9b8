//! What `/updateReports` tells the driver. When every report was written the
//! reply is what Autobahn's fuzzing server sends: the upgrade and a plain
//! close. When some could not be written, the driver gets one text message,
//! a JSON object `{"error": "reports not written", "failures": [{"agent",
//! "path", "cause"}...]}` naming every file that failed and why (`agent` is
//! the agent's real name, or null for the overview files), and the close
//! carries 1011 (internal error) with a short reason, so a driver that only
//! looks at the close code still sees it. Serve also prints each failure.

use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

use crate::report::WriteError;

/// The text message and close frame of an `updateReports` reply.
pub struct Reply {
    pub text: Option<String>,
    pub close: Option<CloseFrame>,
}

/// The reply after writing reports came out as `written`.
pub fn reply(written: &Result<(), WriteError>) -> Reply {
    let Err(e) = written else {
        return Reply {
            text: None,
            close: None,
        };
    };
    let failures: Vec<serde_json::Value> = e
        .failures
        .iter()
        .map(|f| {
            serde_json::json!({
                "agent": f.agent,
                "path": f.path,
                "cause": f.source.to_string(),
            })
        })
        .collect();
    let text = serde_json::json!({
        "error": "reports not written",
        "failures": failures,
    })
    .to_string();
    // A close reason has room for 123 bytes; this one is always ASCII and short.
    let reason = format!(
        "{} report file(s) not written; see the message before this close",
        e.failures.len()
    );
    Reply {
        text: Some(text),
        close: Some(CloseFrame {
            code: CloseCode::Error,
            reason: reason.into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::FileError;

    #[test]
    fn a_failure_names_the_agent_the_path_and_the_cause() {
        let written = Err(WriteError {
            failures: vec![FileError {
                agent: Some("a b".into()),
                path: "/r/a_b-0123/results.json".into(),
                source: std::io::Error::other("disk full"),
            }],
        });
        let r = reply(&written);
        let text: serde_json::Value =
            serde_json::from_str(r.text.as_deref().unwrap_or("")).expect("JSON");
        assert_eq!(text["failures"][0]["agent"], "a b");
        assert_eq!(text["failures"][0]["path"], "/r/a_b-0123/results.json");
        assert_eq!(text["failures"][0]["cause"], "disk full");
        let close = r.close.expect("a close frame");
        assert_eq!(u16::from(close.code), 1011);
        assert!(close.reason.len() <= 123);
        let ok = reply(&Ok(()));
        assert!(ok.text.is_none() && ok.close.is_none());
    }
}
