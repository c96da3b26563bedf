/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * Datagrams over the CMSDK UART0 of QEMU mps2-an385, framed with SLIP (RFC 1055): each
 * frame is one datagram to or from the LwM2M server, which a host relay carries over UDP.
 */
#ifndef TERN_EXAMPLE_SLIP_H
#define TERN_EXAMPLE_SLIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** The largest datagram either way; longer frames are dropped whole. */
#define SLIP_MTU 1280u

/** Enables the UART. */
void slip_init(void);

/** Sends one datagram as a frame (blocks while the UART's transmit buffer is full). */
void slip_send(const uint8_t *data, size_t len);

/**
 * Reads what the UART holds: keeps reading while bytes come, until a frame is complete or
 * the line has been quiet for `quiet_ms`. True when a complete frame waits.
 */
bool slip_poll(uint32_t quiet_ms);

/**
 * Moves the waiting frame into `buffer` (at most `capacity` bytes; a longer frame is
 * dropped): its length, or 0 when none waits.
 */
size_t slip_take(uint8_t *buffer, size_t capacity);

#endif
