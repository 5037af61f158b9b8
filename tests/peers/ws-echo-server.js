// Echo server on Node's `ws` package, configured as for Autobahn's reference
// verdicts (perMessageDeflate enabled). Binds 127.0.0.1 on the port given
// (0 = any) and prints "listening PORT" once ready.
const { WebSocketServer } = require('ws');
const port = parseInt(process.argv[2] || '0', 10);
const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: true }, () => {
  console.log(`listening ${wss.address().port}`);
});
wss.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  socket.on('error', () => {});
});
