/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * The pre-shared keys of the platform's DTLS (platform_dtls.h), whichever library does it:
 * the -i/-k keys for every Security instance, and the keys a bootstrap server wrote for
 * one instance, which tern hands over through its `credentials` callback.
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

#endif
