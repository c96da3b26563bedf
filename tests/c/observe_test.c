/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * Observe through the C ABI: tern_resource_changed refuses a NULL client or path, too
 * many ids and ids out of range; a server observes /3303/0/5900 (the response carries
 * Observe), the application changes the value and signals it (inside the critical section
 * it gave tern_set_critical_section), and the next step sends a non-confirmable 2.05
 * notification with the observation's token, a larger Observe number and the new value; a
 * RST to it ends the observation with TERN_EVENT_OBSERVATION_ENDED, after which a change
 * sends nothing.
 */
#include <stdio.h>
#include <string.h>

#include "tern.h"

#include "check.h"
#include "fake_platform.h"

static unsigned ended;
static uint32_t ended_value;
static unsigned enters, exits, depth;

static void on_event(void *user, const tern_event_t *event)
{
	(void)user;
	if (event->kind == TERN_EVENT_OBSERVATION_ENDED) {
		ended++;
		ended_value = event->value;
	}
}

static uint32_t enter(void *user)
{
	(void)user;
	enters++;
	depth++;
	return 0x5a;
}

static void leave(void *user, uint32_t state)
{
	(void)user;
	exits += state == 0x5a;
	depth--;
}

static const tern_resource_def_t resources[] = {
	{.id = 5900, .type = TERN_TYPE_INTEGER, .operations = TERN_OP_R, .multiple = false},
};
static int64_t interval = 60;

static tern_status_t obj_read(void *user, uint16_t iid, uint16_t rid, size_t index, uint16_t *ri, tern_value_t *v)
{
	(void)user;
	(void)index;
	(void)ri;
	if (rid != 5900 || iid != 0) {
		return TERN_STATUS_NOT_FOUND;
	}
	v->type = TERN_TYPE_INTEGER;
	v->i = interval;
	return TERN_STATUS_OK;
}

static const tern_object_def_t object = {
	.id = 3303,
	.version_major = 1,
	.version_minor = 0,
	.resources = resources,
	.resource_count = 1,
	.read = obj_read,
};

static int ends_with(const char *text)
{
	size_t n = strlen(text);
	return last_len > n && memcmp(last + last_len - n, text, n) == 0 && last[last_len - n - 1] == 0xff;
}

int main(void)
{
	static tern_client_storage_t storage;
	tern_client_t *client = NULL;
	uint64_t next = 0;
	uint8_t msg[64];
	size_t len;
	const uint16_t path[] = {3303, 0, 5900};
	const uint16_t bad[] = {3303, 65535};

	CHECK(fake_client_init(&storage, "observe-test", on_event, &client) == TERN_STATUS_OK);
	CHECK(tern_client_add_object(client, &object, NULL, (const uint16_t[]){0}, 1) == TERN_STATUS_OK);
	CHECK(tern_set_critical_section(enter, NULL, NULL) == TERN_STATUS_NULL_ARG);
	CHECK(tern_set_critical_section(enter, leave, NULL) == TERN_STATUS_OK);

	/* Bad arguments. */
	CHECK(tern_resource_changed(NULL, path, 3) == TERN_STATUS_NULL_ARG);
	CHECK(tern_resource_changed(client, NULL, 3) == TERN_STATUS_NULL_ARG);
	CHECK(tern_resource_changed(client, path, 5) == TERN_STATUS_INVALID_ARG);
	CHECK(tern_resource_changed(client, bad, 2) == TERN_STATUS_INVALID_ARG);
	static tern_client_storage_t unused;
	CHECK(tern_resource_changed((tern_client_t *)&unused, path, 3) == TERN_STATUS_BAD_STATE);

	/* Register, answered 2.01 Location-Path rd/1. */
	CHECK(tern_client_step(client, 1000, &next) == TERN_STATUS_OK);
	CHECK(sends == 1 && last[1] == 0x02);
	static const uint8_t location[] = {0x82, 'r', 'd', 0x01, '1'};
	len = ack_for_last(msg, 0x41, location, sizeof(location));
	CHECK(tern_client_input(client, &connection, msg, len, 1000) == TERN_STATUS_OK);

	/* Observe /3303/0/5900: GET, token abcd, Observe 0 (empty), Uri-Path 3303/0/5900. */
	static const uint8_t observe[] = {0x42, 0x01, 0x20, 0x01, 0xab, 0xcd, 0x60, 0x54, '3', '3',
					  '0',  '3',  0x01, '0',  0x04, '5',  '9',  '0',  '0'};
	sends = 0;
	CHECK(tern_client_input(client, &connection, observe, sizeof(observe), 1100) == TERN_STATUS_OK);
	/* ACK 2.05, token abcd, Observe first (delta 6), the value 60. */
	CHECK(sends == 1 && last[0] == 0x62 && last[1] == 0x45 && last[4] == 0xab && last[5] == 0xcd);
	CHECK((last[6] >> 4) == 6 && ends_with("60"));
	unsigned first_seq = (last[6] & 0x0f) ? last[7] : 0;

	/* Nothing changed: nothing to send. */
	sends = 0;
	CHECK(tern_client_step(client, 2000, &next) == TERN_STATUS_OK);
	CHECK(sends == 0);

	/* The value changes: the next step notifies. */
	interval = 42;
	enters = exits = 0;
	CHECK(tern_resource_changed(client, path, 3) == TERN_STATUS_OK);
	CHECK(enters >= 1 && exits == enters && depth == 0);
	sends = 0;
	CHECK(tern_client_step(client, 2100, &next) == TERN_STATUS_OK);
	CHECK(sends == 1 && last[0] == 0x52 && last[1] == 0x45 && last[4] == 0xab && last[5] == 0xcd);
	CHECK(last[6] == 0x61 && last[7] > first_seq && ends_with("42"));

	/* The server rejects it with RST: the observation ends, the application hears of it. */
	uint8_t rst[4] = {0x70, 0x00, last[2], last[3]};
	CHECK(tern_client_input(client, &connection, rst, sizeof(rst), 2200) == TERN_STATUS_OK);
	CHECK(ended == 1 && ended_value == ((3303u << 16) | 0u));
	interval = 43;
	CHECK(tern_resource_changed(client, path, 3) == TERN_STATUS_OK);
	sends = 0;
	CHECK(tern_client_step(client, 2300, &next) == TERN_STATUS_OK);
	CHECK(sends == 0);

	CHECK(tern_set_critical_section(NULL, NULL, NULL) == TERN_STATUS_OK);
	CHECK(tern_client_close(client) == TERN_STATUS_OK);
	CHECK(tern_resource_changed(client, path, 3) == TERN_STATUS_BAD_STATE);
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
