// A shell session driven by the npm package `ssm-session` (1.0.6, with `ws`): a lenient legacy
// client with no handshake, truncated payload digests and NUL-padded message types.
// Usage: node ssm-session-shell.js STREAM_URL TOKEN LINE...
// Each LINE is typed (with "\r") once the previous output has arrived; output payloads are
// written to stdout; the process exits when the server closes the websocket.
"use strict";
const WebSocket = require("ws");
const { ssm } = require("ssm-session");

const [url, token, ...lines] = process.argv.slice(2);
const socket = new WebSocket(url);
socket.binaryType = "arraybuffer";
const encoder = new TextEncoder();
let typed = 0;

function typeNext() {
  if (typed < lines.length) {
    ssm.sendText(socket, encoder.encode(lines[typed] + "\r"));
    typed += 1;
  }
}

socket.on("open", () => {
  ssm.init(socket, { token, termOptions: { rows: 30, cols: 100 } });
});
socket.on("message", (data) => {
  const message = ssm.decode(data);
  ssm.sendACK(socket, message);
  if (message.messageType === "output_stream_data" && message.payloadType === 1) {
    process.stdout.write(Buffer.from(message.payload));
    // Type the next line after the shell has printed something (its prompt or an answer).
    typeNext();
  }
});
socket.on("close", (code, reason) => {
  process.stderr.write(`closed ${code} ${reason}\n`);
  process.exit(0);
});
socket.on("error", (error) => {
  process.stderr.write(`error ${error}\n`);
  process.exit(2);
});
