/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * What the platform's DTLS (platform_dtls.h) does the same whichever library does it: the
 * pre-shared keys (the -i/-k keys for every Security instance, and the keys a bootstrap
 * server wrote for one instance, which tern hands over through its `credentials` callback),
 * and the first half of `open`.
 */
#ifndef TERN_EXAMPLE_PLATFORM_PSK_H
#define TERN_EXAMPLE_PLATFORM_PSK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform_dtls.h"

/* One connection per server, and one for a firmware package download. */
#define PLATFORM_DTLS_CONNECTIONS (TERN_MAX_SERVERS + 1)

/* A pre-shared key, and the Security instance it is for. */
struct psk {
	bool set;
	uint16_t instance;
	char identity[TERN_EXAMPLE_PSK_MAX + 1];
	uint8_t key[TERN_EXAMPLE_PSK_MAX];
	size_t key_len;
};

/* The keys for a Security instance: its own, else the -i/-k ones, else NULL. */
const struct psk *platform_psk_for(uint16_t instance);

/*
 * The first half of `open`: a free slot of the `count` connection slots of `size` bytes at
 * `slots` (each begins with its UDP connection, a `void *` that is NULL while the slot is
 * free) into *slot, its UDP socket for `uri` (udp.h), and in *keys the keys to secure it
 * with, or NULL for a coap:// URI. TERN_STATUS_NO_SPACE without a free slot;
 * TERN_STATUS_IO for a coaps:// URI whose Security instance has no keys. Nothing is left
 * open after a failure.
 */
tern_status_t platform_open_udp(void *user, const char *uri, size_t uri_len, uint16_t instance, void *slots,
				size_t count, size_t size, void **slot, const struct psk **keys);

#endif
