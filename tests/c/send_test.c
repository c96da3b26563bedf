/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * Send (LwM2M 1.1) through the C ABI: tern_send refuses NULL pointers, no paths, too many
 * paths, malformed paths, another format, a server slot that does not exist, paths that
 * name nothing, a client that is not registered and a server whose Mute Send (/1/0/23) is
 * true, each with its status; a good one leaves at the next step as a CON POST to /dp in
 * SenML CBOR, one at a time (TERN_STATUS_WOULD_BLOCK meanwhile), and its outcome reaches
 * the event callback: 2.04, an error code (4.04), or no acknowledgement at all after the
 * retransmissions.
 */
#include <stdio.h>
#include <string.h>

#include "tern.h"

#include "check.h"
#include "fake_platform.h"

static tern_event_t last_event;
static unsigned send_events;

static void on_event(void *user, const tern_event_t *event)
{
	(void)user;
	if (event->kind >= TERN_EVENT_SEND_SUCCEEDED && event->kind <= TERN_EVENT_SEND_TIMEOUT) {
		last_event = *event;
		send_events++;
	}
}

static tern_str_t str(const char *s)
{
	tern_str_t t = {s, strlen(s)};
	return t;
}

/* True when the last datagram is a CON POST to /dp in SenML CBOR (Content-Format 112). */
static int last_is_send(void)
{
	size_t tkl = last[0] & 0x0f;
	static const uint8_t options[] = {0xb2, 'd', 'p', 0x11, 112, 0xff, 0x9f};
	return last_len > 4 + tkl + sizeof(options) && (last[0] & 0x30) == 0 && last[1] == 0x02 &&
	       memcmp(last + 4 + tkl, options, sizeof(options)) == 0 && last[last_len - 1] == 0xff;
}

int main(void)
{
	static tern_client_storage_t storage;
	tern_client_t *client = NULL;
	uint64_t next = 0;
	uint8_t msg[64];
	size_t len;
	const tern_str_t one[] = {str("/3/0/0")};

	CHECK(fake_client_init(&storage, "send-test", on_event, &client) == TERN_STATUS_OK);
	/* Not registered yet. */
	CHECK(tern_send(client, 0, one, 1, 112) == TERN_STATUS_BAD_STATE);

	/* Register, answered 2.01 Location-Path rd/1. */
	CHECK(tern_client_step(client, 1000, &next) == TERN_STATUS_OK);
	CHECK(sends == 1 && last[1] == 0x02);
	static const uint8_t location[] = {0x82, 'r', 'd', 0x01, '1'};
	len = ack_for_last(msg, 0x41, location, sizeof(location));
	CHECK(tern_client_input(client, &connection, msg, len, 1000) == TERN_STATUS_OK);

	/* Bad arguments: nothing queued. */
	const tern_str_t malformed[] = {str("/3/x")};
	const tern_str_t root[] = {str("/")};
	const tern_str_t trailing[] = {str("/3/0/")};
	const tern_str_t too_deep[] = {str("/3/0/0/0/0")};
	const tern_str_t null_text[] = {{NULL, 3}};
	const tern_str_t missing[] = {str("/3/0/99")};
	const tern_str_t nine[9] = {str("/3/0/0"), str("/3/0/0"), str("/3/0/0"), str("/3/0/0"), str("/3/0/0"),
				    str("/3/0/0"), str("/3/0/0"), str("/3/0/0"), str("/3/0/0")};
	CHECK(tern_send(NULL, 0, one, 1, 112) == TERN_STATUS_NULL_ARG);
	CHECK(tern_send(client, 0, NULL, 1, 112) == TERN_STATUS_NULL_ARG);
	CHECK(tern_send(client, 0, one, 0, 112) == TERN_STATUS_INVALID_ARG);
	CHECK(tern_send(client, 0, nine, 9, 112) == TERN_STATUS_INVALID_ARG);
	CHECK(tern_send(client, 0, malformed, 1, 112) == TERN_STATUS_INVALID_ARG);
	CHECK(tern_send(client, 0, root, 1, 112) == TERN_STATUS_INVALID_ARG);
	CHECK(tern_send(client, 0, trailing, 1, 112) == TERN_STATUS_INVALID_ARG);
	CHECK(tern_send(client, 0, too_deep, 1, 112) == TERN_STATUS_INVALID_ARG);
	CHECK(tern_send(client, 0, null_text, 1, 112) == TERN_STATUS_NULL_ARG);
	CHECK(tern_send(client, 0, one, 1, 11542) == TERN_STATUS_INVALID_ARG);
	CHECK(tern_send(client, 1, one, 1, 112) == TERN_STATUS_INVALID_ARG);
	CHECK(tern_send(client, 0, missing, 1, 112) == TERN_STATUS_NOT_FOUND);
	sends = 0;
	CHECK(tern_client_step(client, 1100, &next) == TERN_STATUS_OK);
	CHECK(sends == 0);

	/* A good one: sent at the next step, one at a time; 2.04 is reported. */
	CHECK(tern_send(client, 0, one, 1, 0) == TERN_STATUS_OK);
	CHECK(tern_send(client, 0, one, 1, 112) == TERN_STATUS_WOULD_BLOCK);
	CHECK(tern_client_step(client, 1200, &next) == TERN_STATUS_OK);
	CHECK(sends == 1 && last_is_send());
	len = ack_for_last(msg, 0x44, NULL, 0);
	CHECK(tern_client_input(client, &connection, msg, len, 1250) == TERN_STATUS_OK);
	CHECK(send_events == 1 && last_event.kind == TERN_EVENT_SEND_SUCCEEDED && last_event.server == 0);

	/* An error response: its code. */
	const tern_str_t two[] = {str("/3/0"), str("/3/0/1")};
	sends = 0;
	CHECK(tern_send(client, 0, two, 2, 112) == TERN_STATUS_OK);
	CHECK(tern_client_step(client, 1300, &next) == TERN_STATUS_OK);
	CHECK(sends == 1 && last_is_send());
	len = ack_for_last(msg, 0x84, NULL, 0);
	CHECK(tern_client_input(client, &connection, msg, len, 1350) == TERN_STATUS_OK);
	CHECK(send_events == 2 && last_event.kind == TERN_EVENT_SEND_FAILED && last_event.code == 404);

	/* Never acknowledged: 1 + 4 transmissions, then the timeout. */
	sends = 0;
	CHECK(tern_send(client, 0, one, 1, 112) == TERN_STATUS_OK);
	uint64_t now = 1400, at = 0;
	for (int i = 0; i < 20 && send_events == 2; i++) {
		at = now;
		CHECK(tern_client_step(client, now, &next) == TERN_STATUS_OK);
		now = next;
	}
	CHECK(send_events == 3 && last_event.kind == TERN_EVENT_SEND_TIMEOUT);
	/* ACK_TIMEOUT with this random source's jitter (2481 ms) times 1 + 2 + 4 + 8 + 16. */
	CHECK(at == 1400 + 31 * 2481);
	/* Five transmissions of the Send, then the Update that waited for it (the lifetime of
	 * 60 s passed meanwhile) leaves at once. */
	CHECK(sends == 6 && !last_is_send() && last[1] == 0x02);
	now = at;

	/* A server sets Mute Send (PUT /1/0/23, text "1"): refused. */
	static const uint8_t mute[] = {0x42, 0x03, 0x22, 0x01, 0xaa, 0xbb, 0xb1, '1', 0x01, '0',
				       0x02, '2', '3', 0x10, 0xff, '1'};
	sends = 0;
	CHECK(tern_client_input(client, &connection, mute, sizeof(mute), now) == TERN_STATUS_OK);
	CHECK(sends >= 1 && first[1] == 0x44);
	CHECK(tern_send(client, 0, one, 1, 112) == TERN_STATUS_NOT_ALLOWED);

	/* A clock that goes backward: nothing is sent early, and the next step is not in the
	 * past. */
	sends = 0;
	CHECK(tern_client_step(client, 10, &next) == TERN_STATUS_OK);
	CHECK(sends == 0 && next > now);

	CHECK(tern_client_close(client) == TERN_STATUS_OK);
	CHECK(tern_send(client, 0, one, 1, 112) == TERN_STATUS_BAD_STATE);
	printf("send_test: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
