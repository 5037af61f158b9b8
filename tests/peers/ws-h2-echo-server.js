// Node's `ws` over Node's own HTTP/2 (nghttp2): WebSocket over HTTP/2 (RFC
// 8441) with `ws` doing every WebSocket frame and Node's http2 module every
// HTTP/2 one. An h2c server with extended CONNECT enabled; an extended
// CONNECT with `:protocol websocket` and `sec-websocket-version: 13` gets a
// 200 and a `ws` WebSocket on the stream (as `ws`'s own server sets one up on
// a socket after its 101), which echoes every message; any other request gets
// a 400. No permessage-deflate: this pairing is for the frame-level corpus
// and the RFC 8441 group. Binds 127.0.0.1 on the port given (0 = any) and
// prints "listening PORT" once ready.
const http2 = require('http2');
const { WebSocket, WebSocketServer } = require('ws');
// Only for its options: `ws`'s own server defaults (auto pong, limits).
const defaults = new WebSocketServer({ noServer: true }).options;
const port = parseInt(process.argv[2] || '0', 10);
const server = http2.createServer({ settings: { enableConnectProtocol: true } });
server.on('stream', (stream, headers) => {
  stream.on('error', () => {});
  const websocket = headers[':method'] === 'CONNECT' && headers[':protocol'] === 'websocket';
  if (!websocket || headers['sec-websocket-version'] !== '13') {
    stream.respond({ ':status': 400, 'sec-websocket-version': '13' }, { endStream: true });
    return;
  }
  stream.respond({ ':status': 200 });
  const ws = new WebSocket(null, undefined, defaults);
  ws.setSocket(stream, Buffer.alloc(0), defaults);
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});
server.on('sessionError', () => {});
server.listen(port, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
