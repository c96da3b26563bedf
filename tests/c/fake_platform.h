/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * The fake platform the C tests drive a client with: one connection, and every datagram
 * the client sends kept (`last`, and `first` since `sends` was last set to 0). The random
 * source gives FAKE_RANDOM_BYTE, which a test may define before including this header.
 * fake_client_init starts a client for one server on it; ack_for_last answers the last
 * request.
 */
#ifndef TERN_TEST_FAKE_PLATFORM_H
#define TERN_TEST_FAKE_PLATFORM_H

#include <string.h>

#include "tern.h"

#ifndef FAKE_RANDOM_BYTE
#define FAKE_RANDOM_BYTE 0x21
#endif

static int connection;
static uint8_t last[512], first[512];
static size_t last_len;
static unsigned sends;

static tern_status_t on_open(void *user, const char *uri, size_t len, uint16_t sec, void **conn)
{
	(void)user;
	(void)uri;
	(void)len;
	(void)sec;
	*conn = &connection;
	return TERN_STATUS_OK;
}

static tern_status_t on_send(void *user, void *conn, const uint8_t *data, size_t len)
{
	(void)user;
	(void)conn;
	if (len > sizeof(last)) {
		return TERN_STATUS_IO;
	}
	memcpy(last, data, len);
	last_len = len;
	if (sends == 0) {
		memcpy(first, data, len); /* the first datagram since `sends` was reset */
	}
	sends++;
	return TERN_STATUS_OK;
}

static void on_random(void *user, uint8_t *buf, size_t len)
{
	(void)user;
	memset(buf, FAKE_RANDOM_BYTE, len);
}

/* The configuration of a client for coap://127.0.0.1:5683 (LwM2M 1.1) named `endpoint`. */
static tern_config_t fake_config(const char *endpoint)
{
	static const tern_server_config_t server = {{"coap://127.0.0.1:5683", 21}, 1, 60};
	tern_config_t config;

	memset(&config, 0, sizeof(config));
	config.endpoint.ptr = endpoint;
	config.endpoint.len = strlen(endpoint);
	config.lwm2m_version = 11;
	config.servers = &server;
	config.server_count = 1;
	return config;
}

/* The fake platform; `on_event` may be NULL. */
static tern_platform_t fake_platform(tern_event_fn on_event)
{
	tern_platform_t platform;

	memset(&platform, 0, sizeof(platform));
	platform.open = on_open;
	platform.send = on_send;
	platform.random = on_random;
	platform.event = on_event;
	return platform;
}

/* A client of `fake_config` on `fake_platform`. */
static tern_status_t fake_client_init(tern_client_storage_t *storage, const char *endpoint, tern_event_fn on_event,
				      tern_client_t **client)
{
	tern_config_t config = fake_config(endpoint);
	tern_platform_t platform = fake_platform(on_event);

	return tern_client_init(storage, sizeof(*storage), &config, &platform, client);
}

/* The piggybacked ACK for the last request the client sent, with `code` and options
 * (`options` may be NULL when `options_len` is 0). */
static size_t ack_for_last(uint8_t *out, uint8_t code, const uint8_t *options, size_t options_len)
{
	size_t tkl = last[0] & 0x0f;
	out[0] = (uint8_t)(0x60 | tkl);
	out[1] = code;
	out[2] = last[2];
	out[3] = last[3];
	memcpy(out + 4, last + 4, tkl);
	if (options_len > 0) {
		memcpy(out + 4 + tkl, options, options_len);
	}
	return 4 + tkl + options_len;
}

#endif
