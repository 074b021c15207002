// Bosun console: the client end of a Session Manager data channel in the browser — the same
// websocket and binary frames as `aws ssm start-session`: the token message, then frames with a
// SHA-256 digest, per-direction sequence numbers, an acknowledgement for every frame received,
// ordering, retransmission of unacknowledged input, and the handshake answered.
// No DOM here: `openChannel` takes callbacks, so the terminal view owns the screen.

const CLIENT_VERSION = '1.2.707.0';
const HEADER_LENGTH = 116; // AWS writes the offset of PayloadLength; the payload starts 4 later.
const PAYLOAD = { output: 1, size: 3, handshakeRequest: 5, handshakeResponse: 6, handshakeComplete: 7, flag: 10, stdErr: 11, exitCode: 12 };
const FLAG_TERMINATE = 2;
const RETRANSMIT_AFTER_MS = 1000;
const INPUT_CHUNK = 1024;

// SHA-256 (FIPS 180-4), synchronous: crypto.subtle is missing outside secure contexts (a console
// over plain http on a LAN address) and is asynchronous, while frames are built in order.
const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

export function sha256(bytes) {
  const bitLength = bytes.length * 8;
  const padded = new Uint8Array(Math.ceil((bytes.length + 9) / 64) * 64);
  padded.set(bytes);
  padded[bytes.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bitLength / 2 ** 32));
  view.setUint32(padded.length - 4, bitLength >>> 0);
  const hash = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Uint32Array(64);
  const rotr = (x, n) => (x >>> n) | (x << (32 - n));
  for (let block = 0; block < padded.length; block += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(block + i * 4);
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, h] = hash;
    for (let i = 0; i < 64; i++) {
      const t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      h = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
    }
    [a, b, c, d, e, f, g, h].forEach((v, i) => { hash[i] = (hash[i] + v) >>> 0; });
  }
  const out = new Uint8Array(32);
  const outView = new DataView(out.buffer);
  hash.forEach((v, i) => outView.setUint32(i * 4, v));
  return out;
}

/** A random (version 4) UUID as 16 bytes; crypto.getRandomValues works without a secure context. */
function newUuid() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  return b;
}

function uuidText(b) {
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** One frame as AWS lays it out (big-endian; the MessageId's two halves swapped). */
export function encodeFrame({ type, seq = 0, flags = 0, id = newUuid(), payloadType = 0, payload = new Uint8Array(0), created = Date.now() }) {
  const buf = new Uint8Array(HEADER_LENGTH + 4 + payload.length);
  const v = new DataView(buf.buffer);
  v.setUint32(0, HEADER_LENGTH);
  buf.fill(0x20, 4, 36);
  for (let i = 0; i < type.length; i++) buf[4 + i] = type.charCodeAt(i);
  v.setUint32(36, 1);
  v.setBigUint64(40, BigInt(created));
  v.setBigInt64(48, BigInt(seq));
  v.setBigUint64(56, BigInt(flags));
  buf.set(id.subarray(8, 16), 64);
  buf.set(id.subarray(0, 8), 72);
  buf.set(sha256(payload), 80);
  v.setUint32(112, payloadType);
  v.setUint32(116, payload.length);
  buf.set(payload, 120);
  return buf;
}

/** A frame's fields, or null when it is too short to be one. */
export function decodeFrame(buf) {
  if (buf.length < HEADER_LENGTH + 4) return null;
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const start = v.getUint32(0) + 4;
  const length = v.getUint32(116);
  if (start < 120 || start + length > buf.length) return null;
  const type = String.fromCharCode(...buf.subarray(4, 36)).replace(/[\0\s]+$/, '');
  const id = new Uint8Array(16);
  id.set(buf.subarray(72, 80), 0);
  id.set(buf.subarray(64, 72), 8);
  return {
    type, seq: Number(v.getBigInt64(48)), id, digest: buf.subarray(80, 112),
    payloadType: v.getUint32(112), payload: buf.slice(start, start + length),
  };
}

function sameBytes(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The answer to the agent's HandshakeRequest: shells and commands are fine; ports and KMS
 * encryption are not something this terminal can do. */
function handshakeResponse(request) {
  const actions = (request.RequestedClientActions || []).map((action) => {
    let status = 3; let error = `${action.ActionType} is not supported by the console`;
    if (action.ActionType === 'SessionType') {
      const type = action.ActionParameters && action.ActionParameters.SessionType;
      if (['Standard_Stream', 'InteractiveCommands', 'NonInteractiveCommands'].includes(type)) { status = 1; error = ''; } else { status = 2; error = `the console cannot open a ${type} session`; }
    }
    return { ActionType: action.ActionType, ActionStatus: status, ActionResult: null, Error: error };
  });
  return { ClientVersion: CLIENT_VERSION, ProcessedClientActions: actions, Errors: [] };
}

/**
 * Opens the data channel at `streamUrl` with `token`. Callbacks: onOutput(bytes), onEnd({exitCode,
 * reason}). Returns {send(text), resize(cols, rows), terminate(), close()}. Input and sizes wait
 * until the agent is ready (its handshake is complete, or a shell's first output arrived).
 */
export function openChannel(streamUrl, token, { onOutput, onEnd }) {
  const socket = new WebSocket(streamUrl);
  socket.binaryType = 'arraybuffer';
  const encoder = new TextEncoder();
  let expected = 0; // the next agent sequence number to deliver
  const early = new Map(); // agent frames that arrived ahead of `expected`
  let nextSeq = 0;
  const unacked = new Map(); // our seq -> {bytes, sentAt}
  let ready = false; let ended = false; let exitCode = null;
  const waiting = []; // [payloadType, payload] held until ready

  function finish(reason) {
    if (ended) return;
    ended = true;
    clearInterval(timer);
    try { socket.close(); } catch { /* already closed */ }
    onEnd({ exitCode, reason });
  }

  function transmit(payloadType, payload) {
    const bytes = encodeFrame({ type: 'input_stream_data', seq: nextSeq, flags: nextSeq === 0 ? 1 : 0, payloadType, payload });
    unacked.set(nextSeq, { bytes, sentAt: Date.now() });
    nextSeq += 1;
    if (socket.readyState === WebSocket.OPEN) socket.send(bytes);
  }

  function queue(payloadType, payload) {
    if (ended) return;
    if (ready) transmit(payloadType, payload); else waiting.push([payloadType, payload]);
  }

  function becomeReady() {
    if (ready) return;
    ready = true;
    for (const [t, p] of waiting.splice(0)) transmit(t, p);
  }

  function acknowledge(frame) {
    const body = { AcknowledgedMessageType: frame.type, AcknowledgedMessageId: uuidText(frame.id), AcknowledgedMessageSequenceNumber: frame.seq, IsSequentialMessage: true };
    socket.send(encodeFrame({ type: 'acknowledge', flags: 3, payload: encoder.encode(JSON.stringify(body)) }));
  }

  function deliver(frame) {
    const text = () => new TextDecoder().decode(frame.payload);
    switch (frame.payloadType) {
      case PAYLOAD.output: case PAYLOAD.stdErr: becomeReady(); onOutput(frame.payload); break;
      case PAYLOAD.handshakeRequest:
        transmit(PAYLOAD.handshakeResponse, encoder.encode(JSON.stringify(handshakeResponse(JSON.parse(text())))));
        break;
      case PAYLOAD.handshakeComplete: becomeReady(); break;
      case PAYLOAD.exitCode: {
        const n = parseInt(text().replace('EXIT_CODE:', '').trim(), 10);
        if (!Number.isNaN(n)) exitCode = n;
        break;
      }
      default: break;
    }
  }

  function onFrame(frame) {
    if (frame.type === 'acknowledge') {
      try { unacked.delete(JSON.parse(new TextDecoder().decode(frame.payload)).AcknowledgedMessageSequenceNumber); } catch { /* not an ack body */ }
      return;
    }
    if (frame.type === 'channel_closed') {
      let reason = '';
      try { reason = JSON.parse(new TextDecoder().decode(frame.payload)).Output || ''; } catch { /* no body */ }
      finish(reason);
      return;
    }
    if (frame.type !== 'output_stream_data') return;
    if (frame.payload.length && !sameBytes(sha256(frame.payload), frame.digest)) return; // damaged: not acked, so resent
    acknowledge(frame);
    if (frame.seq < expected) return; // a resend of what was delivered
    early.set(frame.seq, frame);
    while (early.has(expected)) {
      const next = early.get(expected);
      early.delete(expected);
      expected += 1;
      deliver(next);
    }
  }

  socket.addEventListener('open', () => {
    const id = () => uuidText(newUuid());
    socket.send(JSON.stringify({ MessageSchemaVersion: '1.0', RequestId: id(), TokenValue: token, ClientId: id(), ClientVersion: CLIENT_VERSION }));
  });
  socket.addEventListener('message', (ev) => {
    if (!(ev.data instanceof ArrayBuffer)) return;
    const frame = decodeFrame(new Uint8Array(ev.data));
    if (frame) onFrame(frame);
  });
  socket.addEventListener('close', (ev) => finish(ev.reason || ''));
  socket.addEventListener('error', () => finish('the data channel failed'));
  // Like AWS's clients, only the oldest unacknowledged frame is resent, once it is overdue.
  const timer = setInterval(() => {
    if (!unacked.size || socket.readyState !== WebSocket.OPEN) return;
    const oldest = unacked.get(Math.min(...unacked.keys()));
    if (Date.now() - oldest.sentAt >= RETRANSMIT_AFTER_MS) { oldest.sentAt = Date.now(); socket.send(oldest.bytes); }
  }, 250);

  return {
    send(text) {
      const bytes = encoder.encode(text);
      for (let i = 0; i < bytes.length; i += INPUT_CHUNK) queue(PAYLOAD.output, bytes.subarray(i, i + INPUT_CHUNK));
    },
    resize(cols, rows) { queue(PAYLOAD.size, encoder.encode(JSON.stringify({ cols, rows }))); },
    terminate() {
      const flag = new Uint8Array(4);
      new DataView(flag.buffer).setUint32(0, FLAG_TERMINATE);
      if (ready) transmit(PAYLOAD.flag, flag);
    },
    close() { finish('closed by the console'); },
  };
}
