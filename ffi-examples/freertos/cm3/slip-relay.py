#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 OR MIT
"""Carries SLIP frames (RFC 1055) between QEMU's serial port, on a Unix socket, and one
UDP server on loopback: each frame from the guest becomes one datagram to the server, each
datagram from the server one frame to the guest. Leaves when QEMU closes the socket or at
the timeout; prints how many frames went each way to stderr. With --corrupt, it first
sends the guest damaged frames (see CORRUPT) just before the server's first datagram, which
must change nothing."""

import argparse
import os
import select
import socket
import sys
import time

END, ESC, ESC_END, ESC_ESC = 0xC0, 0xDB, 0xDC, 0xDD

# Raw bytes for the guest's UART, each ending in END: an invalid escape inside a truncated
# CoAP header; a frame longer than any datagram the image takes; a frame without a leading
# END that is a CoAP header announcing a token it lacks; a confirmable GET with a reserved
# option delta (15), which CoAP answers with a Reset; an empty frame (END END).
CORRUPT = [
    bytes([END, 0x40, ESC, 0x01, END]),
    bytes([END]) + bytes([0x55]) * 2000 + bytes([END]),
    bytes([0x44, 0x01, 0x12, END]),
    bytes([END, 0x40, 0x01, 0x12, 0x34, 0xF0, END]),
    bytes([END, END]),
]


def encode(datagram):
    body = datagram.replace(bytes([ESC]), bytes([ESC, ESC_ESC])).replace(bytes([END]), bytes([ESC, ESC_END]))
    return bytes([END]) + body + bytes([END])


class Decoder:
    """Turns a byte stream into frames; empty frames (back-to-back END) are skipped."""

    def __init__(self):
        self.frame = bytearray()
        self.escaped = False

    def feed(self, data):
        frames = []
        for b in data:
            if b == END:
                if self.frame:
                    frames.append(bytes(self.frame))
                self.frame.clear()
                self.escaped = False
            elif self.escaped:
                self.frame.append({ESC_END: END, ESC_ESC: ESC}.get(b, b))
                self.escaped = False
            elif b == ESC:
                self.escaped = True
            else:
                self.frame.append(b)
        return frames


def connect_unix(path, deadline):
    while time.monotonic() < deadline:
        if os.path.exists(path):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                return s
            except OSError:
                s.close()
        time.sleep(0.05)
    raise SystemExit(f"slip-relay: no QEMU serial socket at {path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--socket", required=True, help="QEMU's serial port (a Unix socket)")
    ap.add_argument("--server", required=True, help="HOST:PORT of the UDP server")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds before giving up")
    ap.add_argument("--corrupt", action="store_true", help="send the guest damaged frames first")
    args = ap.parse_args()
    host, _, port = args.server.rpartition(":")
    deadline = time.monotonic() + args.timeout

    uart = connect_unix(args.socket, deadline)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.connect((host, int(port)))
    decoder = Decoder()
    up = down = 0
    pending_corrupt = list(CORRUPT) if args.corrupt else []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([uart, udp], [], [], 0.5)
        if uart in ready:
            data = uart.recv(4096)
            if not data:
                break
            for frame in decoder.feed(data):
                udp.send(frame)
                up += 1
        if udp in ready:
            try:
                datagram = udp.recv(65535)
            except ConnectionRefusedError:
                continue
            for raw in pending_corrupt:
                uart.sendall(raw)
            if pending_corrupt:
                print(f"slip-relay: sent {len(pending_corrupt)} damaged frames", file=sys.stderr)
                pending_corrupt = []
            uart.sendall(encode(datagram))
            down += 1
    print(f"slip-relay: {up} frames to the server, {down} from it", file=sys.stderr)


if __name__ == "__main__":
    main()
