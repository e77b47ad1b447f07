"""A real SMTP server for djrs-mail's tests and benchmark: aiosmtpd (from PyPI, installed by
`cargo xtask services` into target/smtp-venv), started on a free loopback port.

Prints "PORT <n>" once listening. Records into --outdir:
  messages/<n>.json  one file per accepted message: mail_from, rcpt_tos, data (base64),
                     tls (was the session encrypted), login (the AUTH user or null)
  events.log         one line per MAIL/RCPT/DATA command accepted, with the session's TLS state
  stats.json         connections: total, current, max_concurrent
Modes: --tls-cert/--tls-key enable STARTTLS (with --implicit-tls: TLS from the first byte); --refuse-starttls advertises STARTTLS but answers
454; --auth USER:PASS requires AUTH; --drop-mid-message closes the connection during DATA; --stall-data never answers DATA;
--count-only records no message bodies (for the benchmark); --client-ca requires a client
certificate signed by (or equal to) the given PEM certificate.
"""

import argparse
import asyncio
import base64
import json
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

ARGS = None
STATS = {"total": 0, "current": 0, "max_concurrent": 0}
COUNTER = {"messages": 0}


def write_json(path, value):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(value, f)
    os.replace(tmp, path)


def event(line):
    with open(os.path.join(ARGS.outdir, "events.log"), "a") as f:
        f.write(line + "\n")


class Recorder:
    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        event(f"MAIL tls={session.ssl is not None}")
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        event(f"RCPT tls={session.ssl is not None}")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        COUNTER["messages"] += 1
        n = COUNTER["messages"]
        event(f"DATA tls={session.ssl is not None}")
        if not ARGS.count_only:
            login = session.auth_data
            write_json(
                os.path.join(ARGS.outdir, "messages", f"{n:06d}.json"),
                {
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": envelope.rcpt_tos,
                    "data": base64.b64encode(envelope.original_content or envelope.content).decode(),
                    "tls": session.ssl is not None,
                    "login": login if isinstance(login, str) else None,
                },
            )
        write_json(os.path.join(ARGS.outdir, "count.json"), {"messages": n})
        return "250 Message accepted for delivery"


def authenticator(server, session, envelope, mechanism, auth_data):
    user, password = ARGS.auth.split(":", 1)
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login.decode() == user
        and auth_data.password.decode() == password
    )
    return AuthResult(success=ok, handled=False, auth_data=user if ok else None)


class Server(SMTP):
    def connection_made(self, transport):
        if not getattr(self, "_djrs_counted", False):
            self._djrs_counted = True
            STATS["total"] += 1
            STATS["current"] += 1
            STATS["max_concurrent"] = max(STATS["max_concurrent"], STATS["current"])
            write_json(os.path.join(ARGS.outdir, "stats.json"), STATS)
        super().connection_made(transport)

    def connection_lost(self, error):
        if getattr(self, "_djrs_counted", False) and not getattr(self, "_djrs_lost", False):
            self._djrs_lost = True
            STATS["current"] -= 1
            write_json(os.path.join(ARGS.outdir, "stats.json"), STATS)
        super().connection_lost(error)

    async def smtp_STARTTLS(self, arg):
        if ARGS.refuse_starttls:
            await self.push("454 4.7.0 TLS not available due to temporary reason")
            return
        return await super().smtp_STARTTLS(arg)

    async def smtp_DATA(self, arg):
        if ARGS.stall_data and self.envelope.rcpt_tos:
            # Accept DATA, then never answer: the client's per-step timeout must end it.
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            await asyncio.sleep(3600)
            return
        if ARGS.drop_mid_message and self.envelope.rcpt_tos:
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            await self._reader.readline()
            self.transport.close()
            # Park the handler until connection_lost cancels it, so the rest of the message is
            # not read as commands.
            await asyncio.sleep(3600)
            return
        return await super().smtp_DATA(arg)


async def main():
    context = None
    if ARGS.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(ARGS.tls_cert, ARGS.tls_key)
        if ARGS.client_ca:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(ARGS.client_ca)
    kwargs = dict(
        tls_context=None if ARGS.implicit_tls else context,
        enable_SMTPUTF8=True,
        hostname="djrs-test.invalid",
        data_size_limit=None,
    )
    if ARGS.auth:
        kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=bool(context))
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: Server(Recorder(), **kwargs),
        host="127.0.0.1",
        port=ARGS.port,
        ssl=context if ARGS.implicit_tls else None,
    )
    port = server.sockets[0].getsockname()[1]
    write_json(os.path.join(ARGS.outdir, "stats.json"), STATS)
    print(f"PORT {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--outdir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--client-ca")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--refuse-starttls", action="store_true")
    parser.add_argument("--auth")
    parser.add_argument("--drop-mid-message", action="store_true")
    parser.add_argument("--stall-data", action="store_true")
    parser.add_argument("--count-only", action="store_true")
    ARGS = parser.parse_args()
    os.makedirs(os.path.join(ARGS.outdir, "messages"), exist_ok=True)
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
