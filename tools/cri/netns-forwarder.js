#!/usr/bin/env node
// Runs inside a network namespace (started with `nsenter --net=<ns> node netns-forwarder.js
// <listenPort> <unixSocket>`): listens on 127.0.0.1:<listenPort> there and pipes every
// connection to <unixSocket>, a socket served from the root namespace (unix sockets on the
// file system are reachable from every network namespace). Prints "LISTENING <port>" once
// ready; exits when its stdin closes (its parent went away) or on SIGTERM.
// Plain JavaScript with Node built-ins only, so it runs without bundling.
'use strict';

const net = require('node:net');

const [portArg, socketPath] = process.argv.slice(2);
if (!socketPath) {
  process.stderr.write('usage: netns-forwarder.js LISTEN_PORT UNIX_SOCKET\n');
  process.exit(2);
}

const server = net.createServer((inbound) => {
  const outbound = net.connect(socketPath);
  const close = () => {
    inbound.destroy();
    outbound.destroy();
  };
  inbound.on('error', close);
  outbound.on('error', close);
  inbound.pipe(outbound);
  outbound.pipe(inbound);
});

server.on('error', (err) => {
  process.stderr.write(`netns-forwarder: ${err.message}\n`);
  process.exit(1);
});

server.listen(Number(portArg), '127.0.0.1', () => {
  process.stdout.write(`LISTENING ${server.address().port}\n`);
});

process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
