//! The reference server over HTTP/2 (RFC 8441): a connection that opens with
//! the HTTP/2 preface is served by [`crate::http2::server`] with extended
//! CONNECT enabled, and each `CONNECT` with `:protocol websocket` and
//! `sec-websocket-version: 13` is answered 200 and echoed exactly as an
//! HTTP/1.1 connection is (tungstenite with the UTF-8 guard, or yawc when a
//! permessage-deflate offer is accepted). Any other request is refused: a
//! plain request with 404, a CONNECT for another protocol or without
//! `:protocol` with 400, a wrong version with 400 naming version 13.

use std::sync::Arc;

use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;

use super::{deflate_echo, echo_and_end, pmd_offer, utf8_guard, MAX_MESSAGE};
use crate::http2::server::{Handler, Incoming};

/// The handler every HTTP/2 connection of the reference server gets.
pub fn handler() -> Handler {
    Arc::new(|incoming| Box::pin(serve_request(incoming)))
}

async fn serve_request(request: Incoming) {
    if request.request.method != "CONNECT" {
        let _ = request.refuse(404);
        return;
    }
    if !request.is_websocket() {
        let _ = request.refuse(400);
        return;
    }
    let versions: Vec<&str> = request.values("sec-websocket-version").collect();
    if versions != ["13"] {
        let _ = request.refuse(400);
        return;
    }
    let offers = pmd_offer::parse_list(request.values("sec-websocket-extensions"));
    if let Some((agreed, answer)) = pmd_offer::answer(&offers) {
        if let Ok(stream) = request.accept(200, &[("sec-websocket-extensions", answer)]) {
            deflate_echo::run(stream, &agreed, true).await;
        }
        return;
    }
    let Ok(stream) = request.accept(200, &[]) else {
        return;
    };
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    let guarded = utf8_guard::Utf8Guard::frames_only(stream);
    let ws = WebSocketStream::from_raw_socket(guarded, Role::Server, Some(config)).await;
    echo_and_end(ws, true).await;
}
