"""Test SMTP sink (aiosmtpd) on 127.0.0.1: each accepted message is saved as <ns>.json with the
envelope, the raw message, and the headers and text body decoded by Python's `email` package
(so RFC 2047 encoded words and transfer encodings are checked by a standard parser).
usage: mailsink.py OUTDIR PORT   (PORT 0 picks a free one). Prints "PORT <n>" once listening;
runs until SIGTERM/SIGINT."""
import email, itertools, json, os, signal, socket, sys, threading, time
from email import policy
from aiosmtpd.controller import Controller

class Save:
    def __init__(self, outdir):
        self.outdir, self.counter = outdir, itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content
        msg = email.message_from_bytes(raw, policy=policy.default)
        part = msg.get_body(preferencelist=("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "raw": raw.decode("ascii", "replace"),
            "headers": {k: str(v) for k, v in msg.items()},
            "content_type": msg.get_content_type(),
            "charset": msg.get_content_charset(),
            # Mail text is CRLF on the wire; the tests compare it with LF text.
            "body": part.get_content().replace("\r\n", "\n") if part is not None else None,
        }
        name = f"{time.time_ns():020d}-{next(self.counter):06d}.json"
        path = os.path.join(self.outdir, name)
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)  # atomic: readers never see half a message
        return "250 Message accepted for delivery"

def main():
    outdir, port = sys.argv[1], int(sys.argv[2])
    os.makedirs(outdir, exist_ok=True)
    if port == 0:
        s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    c = Controller(Save(outdir), hostname="127.0.0.1", port=port)
    c.start()
    print(f"PORT {port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    c.stop()

if __name__ == "__main__":
    main()
