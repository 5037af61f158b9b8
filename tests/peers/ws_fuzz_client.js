// An Autobahn fuzzing-server client driver of the usual kind, on Node's `ws`:
// get the case count, run each case echoing every message, then update reports.
// Usage: node ws_fuzz_client.js ws://127.0.0.1:9001 AGENT
// For wss:// URLs, TLS_CA names the PEM file of the CA to trust.
const fs = require('fs');
const WebSocket = require('ws');
const tls = process.env.TLS_CA ? { ca: fs.readFileSync(process.env.TLS_CA) } : {};
const [server, agent] = [process.argv[2], process.argv[3]];

function open(path, onOpen) {
  return new Promise((resolve) => {
    const ws = new WebSocket(server + path, { maxPayload: 2 ** 25, ...tls });
    const timer = setTimeout(() => { ws.terminate(); resolve('timeout'); }, 60000);
    if (onOpen) onOpen(ws);
    ws.on('error', () => {});
    ws.on('close', () => { clearTimeout(timer); resolve('closed'); });
  });
}

(async () => {
  let count = 0;
  await open('/getCaseCount', (ws) => ws.on('message', (d) => { count = parseInt(d.toString(), 10); }));
  for (let n = 1; n <= count; n++) {
    await open(`/runCase?case=${n}&agent=${agent}`,
      (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  }
  await open(`/updateReports?agent=${agent}&shutdownOnComplete=true`);
})();
