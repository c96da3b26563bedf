#!/usr/bin/env python3
"""Stand-in LwM2M client, used ONLY to prove that run.sh and scenario.js work.

It proves nothing about the real client: it answers every request with fixed responses.
Raw CoAP over UDP (Python 3 stdlib), same command line as the client under test:
  fake_client.py -u coap://127.0.0.1:PORT -e ENDPOINT -l LIFETIME -U UPDATE_AFTER_S -x EXIT_AFTER_S
Registers (lwm2m=1.1, b=U, </1/0>,</3/0>,</3303/0>), answers Read/Write/Execute/Discover/
Write-Attributes, sends an Update UPDATE_AFTER_S s after registering and when /1/0/8 is executed,
de-registers after EXIT_AFTER_S s and exits 0. The Location-Path of the Register response is
sent back as-is: the server's single option "rd/<id>" becomes one Uri-Path option "rd/<id>".
"""
import argparse
import random
import socket
import sys
import time
from urllib.parse import urlparse

CON, NON, ACK, RST = 0, 1, 2, 3
GET, POST, PUT, DELETE = 1, 2, 3, 4
OPT_LOCATION_PATH, OPT_URI_PATH, OPT_CONTENT_FORMAT, OPT_URI_QUERY, OPT_ACCEPT = 8, 11, 12, 15, 17
ACK_TIMEOUT, MAX_RETRANSMIT = 2.0, 4


def code(c, d):
    return (c << 5) | d


def code_str(c):
    return "%d.%02d" % (c >> 5, c & 31)


def encode(mtype, c, mid, token=b"", options=(), payload=b""):
    out = bytearray([0x40 | (mtype << 4) | len(token), c, mid >> 8, mid & 0xFF]) + token
    last = 0
    for num, val in sorted(options, key=lambda o: o[0]):  # stable: keeps repeated options in order
        delta, length = num - last, len(val)
        last = num

        def nib(n):
            if n < 13:
                return n, b""
            if n < 269:
                return 13, bytes([n - 13])
            return 14, (n - 269).to_bytes(2, "big")
        dn, dx = nib(delta)
        ln, lx = nib(length)
        out += bytes([(dn << 4) | ln]) + dx + lx + val
    if payload:
        out += b"\xff" + payload
    return bytes(out)


def decode(data):
    if len(data) < 4 or data[0] >> 6 != 1:
        raise ValueError("not CoAP")
    mtype, tkl = (data[0] >> 4) & 3, data[0] & 15
    c, mid = data[1], (data[2] << 8) | data[3]
    token = data[4:4 + tkl]
    i, num, opts, payload = 4 + tkl, 0, [], b""
    while i < len(data):
        if data[i] == 0xFF:
            payload = data[i + 1:]
            break
        dn, ln = data[i] >> 4, data[i] & 15
        i += 1

        def ext(n, i):
            if n == 13:
                return data[i] + 13, i + 1
            if n == 14:
                return int.from_bytes(data[i:i + 2], "big") + 269, i + 2
            if n == 15:
                raise ValueError("bad option nibble")
            return n, i
        dn, i = ext(dn, i)
        ln, i = ext(ln, i)
        num += dn
        opts.append((num, bytes(data[i:i + ln])))
        i += ln
    return mtype, c, mid, token, opts, payload


def uint(b):
    return int.from_bytes(b, "big") if b else 0


def opt_all(opts, num):
    return [v for n, v in opts if n == num]


def opt_uint(opts, num):
    vals = opt_all(opts, num)
    return uint(vals[0]) if vals else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-u", required=True)
    ap.add_argument("-e", required=True)
    ap.add_argument("-l", type=int, default=60)
    ap.add_argument("-U", type=float, default=3)
    ap.add_argument("-x", type=float, default=12)
    a = ap.parse_args()
    url = urlparse(a.u)
    server = (url.hostname, url.port or 5683)

    def log(msg):
        print("%.3f %s" % (time.monotonic() - t0, msg), flush=True)

    t0 = time.monotonic()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    mid = random.randrange(0x10000)
    seen = {}          # (peer, mid) -> response bytes (answers to retransmitted requests)
    pending = None     # our outstanding CON request: dict

    def next_mid():
        nonlocal mid
        mid = (mid + 1) & 0xFFFF
        return mid

    def send_request(name, c, options, payload=b""):
        nonlocal pending
        m, tok = next_mid(), random.randbytes(4)
        data = encode(CON, c, m, tok, options, payload)
        pending = {"name": name, "mid": m, "token": tok, "data": data, "tries": 0,
                   "timeout": ACK_TIMEOUT, "due": time.monotonic() + ACK_TIMEOUT, "result": None}
        sock.sendto(data, server)
        log("%s sent" % name)

    def answer(peer, mtype, m, tok, c, options=(), payload=b""):
        if mtype == CON:
            data = encode(ACK, c, m, tok, options, payload)
        else:
            data = encode(NON, c, next_mid(), tok, options, payload)
        seen[(peer, m)] = data
        sock.sendto(data, peer)

    def wait_pending(deadline_s, on_request):
        """Serve incoming requests until our pending CON request is answered; returns the code."""
        nonlocal pending
        end = time.monotonic() + deadline_s
        while pending and pending["result"] is None and time.monotonic() < end:
            now = time.monotonic()
            if now >= pending["due"]:
                if pending["tries"] >= MAX_RETRANSMIT:
                    break
                pending["tries"] += 1
                pending["timeout"] *= 2
                pending["due"] = now + pending["timeout"]
                sock.sendto(pending["data"], server)
            serve_once(min(pending["due"], end) - time.monotonic(), on_request)
        r, pending = (pending or {}).get("result"), None
        return r

    def serve_once(timeout, on_request):
        sock.settimeout(max(0.01, timeout))
        try:
            data, peer = sock.recvfrom(2048)
        except socket.timeout:
            return
        try:
            mtype, c, m, tok, opts, payload = decode(data)
        except (ValueError, IndexError):
            return
        if c == 0 or (c >> 5) >= 2:  # empty message or response
            if pending and (m == pending["mid"] and mtype == ACK or tok == pending["token"]):
                if c != 0:
                    pending["result"] = (c, opts)
                if mtype == CON:  # separate response
                    sock.sendto(encode(ACK, 0, m), peer)
            elif mtype == CON:
                sock.sendto(encode(RST, 0, m), peer)
            return
        if (peer, m) in seen:  # retransmitted request
            sock.sendto(seen[(peer, m)], peer)
            return
        path = "/" + "/".join(v.decode() for v in opt_all(opts, OPT_URI_PATH))
        query = [v.decode() for v in opt_all(opts, OPT_URI_QUERY)]
        cf, accept = opt_uint(opts, OPT_CONTENT_FORMAT), opt_uint(opts, OPT_ACCEPT)
        log("got %s %s query=%s cf=%s accept=%s payload=%r"
            % (code_str(c), path, query, cf, accept, payload))
        json_cf = [(OPT_CONTENT_FORMAT, (11543).to_bytes(2, "big"))]
        if c == GET and accept == 40:
            answer(peer, mtype, m, tok, code(2, 5), [(OPT_CONTENT_FORMAT, bytes([40]))],
                   b"</3/0>;pmin=5;pmax=60,</3/0/0>,</3/0/13>")
        elif c == GET and path == "/3/0/0" and accept in (None, 0):
            answer(peer, mtype, m, tok, code(2, 5), [(OPT_CONTENT_FORMAT, b"")], b"tern")
        elif c == GET and path == "/1/0/1" and accept in (None, 0):
            answer(peer, mtype, m, tok, code(2, 5), [(OPT_CONTENT_FORMAT, b"")], b"%d" % a.l)
        elif c == GET and path == "/3/0" and accept == 11543:
            answer(peer, mtype, m, tok, code(2, 5), json_cf,
                   b'{"bn":"/3/0/","e":[{"n":"0","sv":"tern"},{"n":"13","v":0}]}')
        elif c == PUT and path == "/1/0/1" and cf == 11543:
            answer(peer, mtype, m, tok, code(2, 4))
        elif c == GET:
            answer(peer, mtype, m, tok, code(4, 4))
        elif c == PUT and query:
            answer(peer, mtype, m, tok, code(2, 4))          # Write-Attributes
        elif c == PUT and path == "/1/0/1":
            if cf not in (None, 0):
                answer(peer, mtype, m, tok, code(4, 15))     # e.g. the pre-standard 1541
            else:
                answer(peer, mtype, m, tok, code(2, 4))
        elif c == POST and path == "/1/0/8":
            answer(peer, mtype, m, tok, code(2, 4))
            on_request("execute-update")
        else:
            answer(peer, mtype, m, tok, code(4, 4))

    # Register
    fmt40 = [(OPT_CONTENT_FORMAT, bytes([40]))]
    reg_opts = [(OPT_URI_PATH, b"rd")] + [(OPT_URI_QUERY, q.encode()) for q in
                                           ("ep=" + a.e, "lt=%d" % a.l, "lwm2m=1.1", "b=U")] + fmt40
    send_request("register", POST, reg_opts, b"</1/0>,</3/0>,</3303/0>")
    r = wait_pending(30, lambda _: None)
    if not r or r[0] != code(2, 1):
        log("register failed: %s" % (code_str(r[0]) if r else "timeout"))
        return 1
    location = opt_all(r[1], OPT_LOCATION_PATH)
    log("registered location-path options=%r" % location)
    loc_opts = [(OPT_URI_PATH, v) for v in location]  # sent back as-is, one option per option

    wanted = []
    registered_at = time.monotonic()
    update_at = registered_at + a.U
    exit_at = registered_at + a.x

    def on_request(what):
        wanted.append(what)

    while time.monotonic() < exit_at:
        now = time.monotonic()
        if now >= update_at:
            update_at = float("inf")
            wanted.append("timed-update")
        if wanted:
            why = wanted.pop(0)
            send_request("update (%s)" % why, POST, loc_opts)
            r = wait_pending(30, on_request)
            log("update -> %s" % (code_str(r[0]) if r else "timeout"))
            if not r or r[0] != code(2, 4):
                return 1
            continue
        serve_once(min(update_at, exit_at) - now, on_request)

    send_request("deregister", DELETE, loc_opts)
    r = wait_pending(30, on_request)
    log("deregister -> %s" % (code_str(r[0]) if r else "timeout"))
    return 0 if r and r[0] == code(2, 2) else 1


if __name__ == "__main__":
    sys.exit(main())
