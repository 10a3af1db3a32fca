// A loopback HTTP/2 (or HTTP/1.1) TLS server for the client's connection tests and benchmark
// (tests/client/http2_test.cc, bench/h2_watches.sh), on node's built-in modules only.
//
//   node h2_server.mjs CERT KEY MAX_STREAMS [h2|h1]
//
// Prints its port on the first line of stdout and exits when stdin closes, so that it never
// outlives the process that started it.
//   /stats                 {"tcp": TCP connections accepted so far, "connections": TLS
//                           handshakes completed so far, "streams": requests so far, "open":
//                           requests in progress}
//   ...?watch=1...         a watch: one ADDED event for a Pod named after the request, then held
//                          open until the client leaves
//   anything else          200 {"kind":"Status","status":"Success"}
import fs from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';

const [cert, key, maxStreams, protocol = 'h2'] = process.argv.slice(2);
let tcp = 0;
let connections = 0;
let streams = 0;
let open = 0;
let watchId = 0;

function handle(req, res) {
  ++streams;
  ++open;
  res.on('close', () => --open);
  if (req.url === '/stats') {
    res.writeHead(200, {'content-type': 'application/json'});
    res.end(JSON.stringify({tcp, connections, streams, open}));
    return;
  }
  if (req.url.includes('watch=1') || req.url.includes('watch=true')) {
    const name = `p${++watchId}`;
    res.writeHead(200, {'content-type': 'application/json'});
    res.write(JSON.stringify({
      type: 'ADDED',
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {name, namespace: 'default', resourceVersion: String(watchId)},
      },
    }) + '\n');
    return;  // held open until the client cancels
  }
  res.writeHead(200, {'content-type': 'application/json'});
  res.end('{"kind":"Status","apiVersion":"v1","status":"Success"}');
}

const tls = {cert: fs.readFileSync(cert), key: fs.readFileSync(key)};
const server = protocol === 'h1'
    ? https.createServer(tls, handle)
    : http2.createSecureServer(
          {...tls, settings: {maxConcurrentStreams: Number(maxStreams)}}, handle);
server.on('connection', () => ++tcp);
server.on('secureConnection', () => ++connections);
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
