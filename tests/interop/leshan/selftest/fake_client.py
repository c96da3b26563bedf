#!/usr/bin/env python3
"""Stand-in LwM2M client used ONLY to check the Leshan interop harness itself.

It is not a test of the library: it speaks just enough CoAP over UDP (RFC 7252,
piggybacked responses, CON retransmission, duplicate detection) to play the
scenario that run.sh expects from the real client, with fixed answers:

  POST /rd?ep=..&lt=..&lwm2m=1.1&b=U  </1/0>,</3/0>,</3303/0>
  GET  /3/0/0      -> 2.05 text/plain "tern"
  GET  /3/0 (TLV)  -> 2.05 a few Device resources
  GET  /3/0 (link) -> 2.05 link format (Discover)
  PUT  /1/0/1      -> 2.04
  POST /1/0/8      -> 2.04, then an Update
  Update after UPDATE_AFTER_S, De-register and exit 0 after EXIT_AFTER_S.

Same command line as the real client:
  fake_client.py -u coap://127.0.0.1:PORT -e EP -l LIFETIME -U UPDATE_AFTER_S -x EXIT_AFTER_S
"""

import argparse
import os
import random
import socket
import struct
import sys
import time
import urllib.parse

CON, NON, ACK, RST = 0, 1, 2, 3
GET, POST, PUT, DELETE = 1, 2, 3, 4
OPT_LOCATION_PATH, OPT_URI_PATH, OPT_CONTENT_FORMAT, OPT_URI_QUERY, OPT_ACCEPT = 8, 11, 12, 15, 17
CF_TEXT, CF_LINK, CF_TLV = 0, 40, 11542

ACK_TIMEOUT = 2.0
MAX_RETRANSMIT = 4


def code(c, d):
    return (c << 5) | d


def code_str(c):
    return "%d.%02d" % (c >> 5, c & 31)


def log(msg):
    print("fake-client: " + msg, flush=True)


def enc_uint(v):
    if v == 0:
        return b""
    out = b""
    while v:
        out = bytes([v & 0xFF]) + out
        v >>= 8
    return out


def dec_uint(b):
    v = 0
    for x in b:
        v = (v << 8) | x
    return v


def _ext(n):
    if n < 13:
        return n, b""
    if n < 269:
        return 13, bytes([n - 13])
    return 14, struct.pack("!H", n - 269)


def encode(mtype, mcode, mid, token, options, payload=b""):
    out = bytearray([(1 << 6) | (mtype << 4) | len(token), mcode])
    out += struct.pack("!H", mid) + token
    last = 0
    for num, val in sorted(options, key=lambda o: o[0]):
        d, dx = _ext(num - last)
        l, lx = _ext(len(val))
        out += bytes([(d << 4) | l]) + dx + lx + val
        last = num
    if payload:
        out += b"\xff" + payload
    return bytes(out)


def decode(data):
    if len(data) < 4 or data[0] >> 6 != 1:
        raise ValueError("not CoAP")
    mtype = (data[0] >> 4) & 3
    tkl = data[0] & 15
    mcode = data[1]
    mid = struct.unpack("!H", data[2:4])[0]
    token = data[4:4 + tkl]
    i = 4 + tkl
    opts = []
    num = 0
    payload = b""
    while i < len(data):
        if data[i] == 0xFF:
            payload = data[i + 1:]
            break
        d, l = data[i] >> 4, data[i] & 15
        i += 1
        for which in (0, 1):
            v = d if which == 0 else l
            if v == 13:
                v = data[i] + 13
                i += 1
            elif v == 14:
                v = struct.unpack("!H", data[i:i + 2])[0] + 269
                i += 2
            if which == 0:
                d = v
            else:
                l = v
        num += d
        opts.append((num, data[i:i + l]))
        i += l
    return mtype, mcode, mid, token, opts, payload


def tlv_resource(rid, value):
    assert rid < 256 and len(value) < 256
    if len(value) < 8:
        return bytes([0xC0 | len(value), rid]) + value
    return bytes([0xC8, rid, len(value)]) + value


DEVICE = {0: b"tern", 1: b"fake-model", 2: b"0001", 3: b"0.0"}


class FakeClient:
    def __init__(self, args):
        u = urllib.parse.urlsplit(args.u)
        if u.scheme != "coap":
            raise SystemExit("only coap:// is supported")
        self.server = (u.hostname, u.port or 5683)
        self.args = args
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.mid = random.randint(0, 0xFFFF)
        self.seen = {}  # (mid) -> encoded response, for duplicates
        self.outbox = []  # queued requests: (label, code, options, payload)
        self.pending = None  # in-flight CON request
        self.location = None
        self.reg_time = None
        self.update_due = None
        self.exit_due = None
        self.done = False

    def next_mid(self):
        self.mid = (self.mid + 1) & 0xFFFF
        return self.mid

    def queue(self, label, mcode, options, payload=b""):
        self.outbox.append((label, mcode, options, payload))

    def pump(self):
        if self.pending is None and self.outbox:
            label, mcode, options, payload = self.outbox.pop(0)
            mid = self.next_mid()
            token = os.urandom(4)
            data = encode(CON, mcode, mid, token, options, payload)
            self.pending = {"label": label, "mid": mid, "token": token, "data": data,
                            "tries": 0, "timeout": ACK_TIMEOUT * (1 + random.random() * 0.5)}
            self.pending["due"] = time.monotonic() + self.pending["timeout"]
            self.sock.sendto(data, self.server)
            log("sent " + label)

    def register(self):
        a = self.args
        q = ["ep=" + a.e, "lt=%d" % a.l, "lwm2m=1.1", "b=U"]
        opts = [(OPT_URI_PATH, b"rd"), (OPT_CONTENT_FORMAT, enc_uint(CF_LINK))]
        opts += [(OPT_URI_QUERY, x.encode()) for x in q]
        self.queue("register", code(0, POST), opts, b"</1/0>,</3/0>,</3303/0>")

    def update(self, why):
        opts = [(OPT_URI_PATH, p) for p in self.location]
        self.queue("update (%s)" % why, code(0, POST), opts)

    def deregister(self):
        opts = [(OPT_URI_PATH, p) for p in self.location]
        self.queue("deregister", code(0, DELETE), opts)

    def on_response(self, mcode, opts, payload):
        label = self.pending["label"]
        self.pending = None
        log("%s -> %s" % (label, code_str(mcode)))
        if label == "register":
            if mcode != code(2, 1):
                raise SystemExit(1)
            self.location = [v for n, v in opts if n == OPT_LOCATION_PATH]
            self.reg_time = time.monotonic()
            self.update_due = self.reg_time + self.args.U
            self.exit_due = self.reg_time + self.args.x
            log("registered at /" + "/".join(p.decode() for p in self.location))
        elif label.startswith("update"):
            if mcode != code(2, 4):
                raise SystemExit(1)
        elif label == "deregister":
            log("deregistered")
            self.done = True

    def handle_request(self, mtype, mcode, mid, token, opts, payload, peer):
        path = "/" + "/".join(v.decode() for n, v in opts if n == OPT_URI_PATH)
        accept = [dec_uint(v) for n, v in opts if n == OPT_ACCEPT]
        rcode, ropts, rpayload = code(4, 4), [], b""
        if mcode == code(0, GET) and path == "/3/0/0" and (not accept or accept[0] == CF_TEXT):
            rcode, ropts, rpayload = code(2, 5), [(OPT_CONTENT_FORMAT, enc_uint(CF_TEXT))], DEVICE[0]
        elif mcode == code(0, GET) and path == "/3/0" and accept and accept[0] == CF_LINK:
            links = ["</3/0>"] + ["</3/0/%d>" % r for r in sorted(DEVICE)]
            rcode, ropts, rpayload = code(2, 5), [(OPT_CONTENT_FORMAT, enc_uint(CF_LINK))], ",".join(links).encode()
        elif mcode == code(0, GET) and path == "/3/0" and accept and accept[0] == CF_TLV:
            body = b"".join(tlv_resource(r, v) for r, v in sorted(DEVICE.items()))
            rcode, ropts, rpayload = code(2, 5), [(OPT_CONTENT_FORMAT, enc_uint(CF_TLV))], body
        elif mcode == code(0, GET) and path.startswith("/3/0"):
            rcode = code(4, 6)
        elif mcode == code(0, PUT) and path == "/1/0/1":
            rcode = code(2, 4)
        elif mcode == code(0, POST) and path == "/1/0/8":
            rcode = code(2, 4)
            self.update("execute /1/0/8")
        log("request %s %s -> %s" % (code_str(mcode), path, code_str(rcode)))
        if mtype == CON:
            resp = encode(ACK, rcode, mid, token, ropts, rpayload)
        else:
            resp = encode(NON, rcode, self.next_mid(), token, ropts, rpayload)
        self.seen[mid] = resp
        self.sock.sendto(resp, peer)

    def run(self):
        log("starting, server %s:%d" % self.server)
        self.register()
        hard_deadline = time.monotonic() + self.args.x + 60
        while not self.done:
            now = time.monotonic()
            if now > hard_deadline:
                log("giving up")
                return 1
            if self.update_due is not None and now >= self.update_due:
                self.update_due = None
                self.update("timer")
            if self.exit_due is not None and now >= self.exit_due:
                self.exit_due = None
                self.update_due = None
                self.deregister()
            self.pump()
            if self.pending is not None and now >= self.pending["due"]:
                p = self.pending
                if p["tries"] >= MAX_RETRANSMIT:
                    log(p["label"] + " timed out")
                    return 1
                p["tries"] += 1
                p["timeout"] *= 2
                p["due"] = now + p["timeout"]
                self.sock.sendto(p["data"], self.server)
                log("retransmit " + p["label"])
            waits = [0.5]
            for t in (self.update_due, self.exit_due, self.pending and self.pending["due"]):
                if t:
                    waits.append(max(0.0, t - now))
            self.sock.settimeout(min(waits))
            try:
                data, peer = self.sock.recvfrom(2048)
            except socket.timeout:
                continue
            try:
                mtype, mcode, mid, token, opts, payload = decode(data)
            except (ValueError, IndexError, struct.error):
                continue
            if mcode == 0:
                p = self.pending
                if mtype == ACK and p is not None and mid == p["mid"]:
                    p["due"] = time.monotonic() + 93  # separate response follows; stop retransmitting
                if mtype == CON:  # CoAP ping
                    self.sock.sendto(encode(RST, 0, mid, b"", []), peer)
                continue
            if mcode < 32:  # request
                if mid in self.seen:
                    self.sock.sendto(self.seen[mid], peer)
                else:
                    self.handle_request(mtype, mcode, mid, token, opts, payload, peer)
                continue
            p = self.pending
            if p is not None and token == p["token"]:
                if mtype == ACK and mid != p["mid"]:
                    continue
                if mtype == CON:
                    self.sock.sendto(encode(ACK, 0, mid, b"", []), peer)
                self.on_response(mcode, opts, payload)
        log("exiting")
        return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-u", required=True)
    ap.add_argument("-e", required=True)
    ap.add_argument("-l", type=int, default=60)
    ap.add_argument("-U", type=float, default=3)
    ap.add_argument("-x", type=float, default=12)
    ap.add_argument("-a", action="store_true")  # factory ACLs: not modelled here
    return FakeClient(ap.parse_args()).run()


if __name__ == "__main__":
    sys.exit(main())
