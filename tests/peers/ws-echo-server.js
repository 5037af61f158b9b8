// Echo server on Node's `ws` package, configured as for Autobahn's reference
// verdicts (perMessageDeflate enabled). Binds 127.0.0.1 on the port given
// (0 = any) and prints "listening PORT" once ready. With TLS_CERT and TLS_KEY
// (PEM files) in the environment it serves wss:// instead.
const fs = require('fs');
const http = require('http');
const https = require('https');
const { WebSocketServer } = require('ws');
const port = parseInt(process.argv[2] || '0', 10);
const ready = (address) => console.log(`listening ${address.port}`);
let wss;
if (process.env.TLS_CERT) {
  // As the HTTP server `ws` makes for itself in cleartext: anything that is
  // not an upgrade gets 426.
  const server = https.createServer({
    cert: fs.readFileSync(process.env.TLS_CERT),
    key: fs.readFileSync(process.env.TLS_KEY),
  }, (req, res) => {
    const body = http.STATUS_CODES[426];
    res.writeHead(426, { 'Content-Length': body.length, 'Content-Type': 'text/plain' });
    res.end(body);
  });
  wss = new WebSocketServer({ server, perMessageDeflate: true });
  server.listen(port, '127.0.0.1', () => ready(server.address()));
} else {
  wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: true }, () => ready(wss.address()));
}
wss.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  socket.on('error', () => {});
});
