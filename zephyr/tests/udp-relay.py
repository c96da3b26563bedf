#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 OR MIT
"""Relays UDP between a client on the TAP network and a server bound to loopback.

udp-relay.py LISTEN_ADDR LISTEN_PORT SERVER_PORT: datagrams to LISTEN_ADDR:LISTEN_PORT go
to 127.0.0.1:SERVER_PORT, the server's datagrams go back to the last client that sent one.
Used by build-sample.sh inside its own network namespace only (the bundled test server
binds loopback only). Prints RELAYING once bound.
"""
import select
import socket
import sys

outside = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
outside.bind((sys.argv[1], int(sys.argv[2])))
inside = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
inside.bind(("127.0.0.1", 0))
inside.connect(("127.0.0.1", int(sys.argv[3])))
print("RELAYING", flush=True)
peer = None
while True:
    ready, _, _ = select.select([outside, inside], [], [])
    if outside in ready:
        data, peer = outside.recvfrom(65535)
        inside.send(data)
    if inside in ready:
        data = inside.recv(65535)
        if peer is not None:
            outside.sendto(data, peer)
