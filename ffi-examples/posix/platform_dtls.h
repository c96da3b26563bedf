/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * Connections the platform secures itself, as an RTOS's DTLS socket would (Zephyr's TLS
 * sockets, mbedTLS under FreeRTOS): DTLS 1.2 with a pre-shared key. A coaps:// server gets
 * a DTLS connection whose handshake runs in `open`; the library then sends and receives
 * plain CoAP on it. Other URIs get plain UDP (udp.h). Two implementations of this header:
 * platform_dtls.c on OpenSSL (make PLATFORM_DTLS=openssl) and platform_dtls_mbedtls.c on
 * mbedTLS 2.28 (make PLATFORM_DTLS=mbedtls, here and in ../freertos).
 */
#ifndef TERN_EXAMPLE_PLATFORM_DTLS_H
#define TERN_EXAMPLE_PLATFORM_DTLS_H

#include <stddef.h>
#include <stdint.h>

#include "tern.h"

/** The longest PSK identity and key kept. */
#define TERN_EXAMPLE_PSK_MAX 64

/**
 * The identity and key (copied) for every Security instance that has none of its own.
 * Returns 0, or -1 when they do not fit.
 */
int platform_dtls_set_psk(const char *identity, const uint8_t *key, size_t key_len);

/**
 * tern's `credentials` callback: keeps (copies) the pre-shared key a bootstrap server wrote
 * for a Security instance; `open` uses it for that instance from then on, as Zephyr's glue
 * does with a sec_tag per instance.
 */
tern_status_t platform_dtls_credentials(void *user, const tern_credentials_t *credentials);

/** Platform callbacks; `user` is unused. */
tern_status_t platform_dtls_open(void *user, const char *uri, size_t uri_len, uint16_t security_instance,
				 void **connection);
tern_status_t platform_dtls_send(void *user, void *connection, const uint8_t *data, size_t len);
tern_status_t platform_dtls_recv(void *user, void *connection, uint8_t *buffer, size_t capacity, size_t *len);
void platform_dtls_close(void *user, void *connection);

#endif
