"""Test SMTP sink (aiosmtpd) on 127.0.0.1: each accepted message is saved as <ns>.json with the
envelope, the raw message, and the headers and text body decoded by Python's `email` package
(so RFC 2047 encoded words and transfer encodings are checked by a standard parser).
usage: mailsink.py OUTDIR PORT [--starttls CERT KEY | --smtps CERT KEY] [--auth USER:PASS]
(PORT 0 picks a free one). Prints "PORT <n>" once listening; runs until SIGTERM/SIGINT.
Each record also says whether the session was TLS and which user authenticated."""
import argparse, email, itertools, json, os, signal, socket, ssl, threading, time
from email import policy
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

class Save:
    def __init__(self, outdir):
        self.outdir, self.counter = outdir, itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content
        msg = email.message_from_bytes(raw, policy=policy.default)
        part = msg.get_body(preferencelist=("plain",))
        tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        record = {
            "tls": tls,
            "auth_user": session.auth_data.login.decode() if session.auth_data else None,
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
    p = argparse.ArgumentParser()
    p.add_argument("outdir"); p.add_argument("port", type=int)
    p.add_argument("--starttls", nargs=2); p.add_argument("--smtps", nargs=2); p.add_argument("--auth")
    a = p.parse_args()
    outdir, port = a.outdir, a.port
    os.makedirs(outdir, exist_ok=True)
    if port == 0:
        s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    kw = {}
    if a.starttls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH); ctx.load_cert_chain(*a.starttls)
        kw.update(tls_context=ctx, require_starttls=True)
    if a.smtps:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH); ctx.load_cert_chain(*a.smtps)
        kw["ssl_context"] = ctx
    if a.auth:
        user, pw = a.auth.split(":", 1)
        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login == user.encode() \
                 and auth_data.password == pw.encode()
            return AuthResult(success=ok, auth_data=auth_data)
        # aiosmtpd counts only STARTTLS as TLS for AUTH; an SMTPS port is TLS already
        kw.update(authenticator=authenticator, auth_required=True, auth_require_tls=bool(a.starttls))
    c = Controller(Save(outdir), hostname="127.0.0.1", port=port, server_hostname="localhost", **kw)
    c.start()
    print(f"PORT {port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    c.stop()

if __name__ == "__main__":
    main()
