/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * Queue mode through the C ABI: a server observes /3303/0/5900 of a client in queue mode;
 * once the client sleeps (TERN_EVENT_QUEUE_SLEEPING), three changes send nothing and are
 * held; the Update that wakes it (TERN_EVENT_QUEUE_AWAKE) is answered and the three leave,
 * oldest first, with their own values and increasing Observe numbers. Two more changes held
 * while asleep are dropped by a new registration, and TERN_EVENT_NOTIFICATIONS_DROPPED says
 * how many.
 */
#include <stdio.h>
#include <string.h>

#include "tern.h"

#include "check.h"
#include "fake_platform.h"

static unsigned sleeping, awake, drop_events, registered;
static uint32_t dropped;

static void on_event(void *user, const tern_event_t *event)
{
	(void)user;
	switch (event->kind) {
	case TERN_EVENT_QUEUE_SLEEPING:
		sleeping++;
		break;
	case TERN_EVENT_QUEUE_AWAKE:
		awake++;
		break;
	case TERN_EVENT_NOTIFICATIONS_DROPPED:
		drop_events++;
		dropped += event->server == 0 ? event->value : 1000;
		break;
	case TERN_EVENT_REGISTERED:
		registered++;
		break;
	default:
		break;
	}
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

static int ends_with(const uint8_t *msg, size_t len, const char *text)
{
	size_t n = strlen(text);
	return len > n && memcmp(msg + len - n, text, n) == 0 && msg[len - n - 1] == 0xff;
}

/* A NON 2.05 with token abcd and a one-byte Observe number: that number. */
static int observe_number(const uint8_t *msg)
{
	if (msg[0] != 0x52 || msg[1] != 0x45 || msg[4] != 0xab || msg[5] != 0xcd || msg[6] != 0x61) {
		return -1;
	}
	return msg[7];
}

/* Every datagram since `sends` was last set to 0 (the first 8), besides `last`. */
static uint8_t sent[8][64];
static size_t sent_len[8];

static tern_status_t record_send(void *user, void *conn, const uint8_t *data, size_t len)
{
	if (sends < 8 && len <= sizeof(sent[0])) {
		memcpy(sent[sends], data, len);
		sent_len[sends] = len;
	}
	return on_send(user, conn, data, len);
}

/* The value changes to `value`; a step at `now` sends nothing (the client sleeps). */
static void change_while_asleep(tern_client_t *client, int64_t value, uint64_t now)
{
	const uint16_t path[] = {3303, 0, 5900};
	uint64_t next = 0;

	interval = value;
	CHECK(tern_resource_changed(client, path, 3) == TERN_STATUS_OK);
	sends = 0;
	CHECK(tern_client_step(client, now, &next) == TERN_STATUS_OK);
	CHECK(sends == 0);
}

int main(void)
{
	static tern_client_storage_t storage;
	tern_client_t *client = NULL;
	uint64_t next = 0;
	uint8_t msg[64];
	size_t len;
	static const uint8_t location[] = {0x82, 'r', 'd', 0x01, '1'};

	CHECK(TERN_NOTIFY_QUEUE_BYTES > 0);
	tern_config_t config = fake_config("queue-test");
	tern_platform_t platform = fake_platform(on_event);
	platform.send = record_send;
	(void)fake_client_init;
	CHECK(tern_client_init(&storage, sizeof(storage), &config, &platform, &client) == TERN_STATUS_OK);
	CHECK(tern_client_add_object(client, &object, NULL, (const uint16_t[]){0}, 1) == TERN_STATUS_OK);
	CHECK(tern_client_set_queue_mode(client, 0, true, 1000) == TERN_STATUS_OK);

	/* Register, answered 2.01 Location-Path rd/1. */
	CHECK(tern_client_step(client, 1000, &next) == TERN_STATUS_OK);
	CHECK(sends == 1 && last[1] == 0x02);
	len = ack_for_last(msg, 0x41, location, sizeof(location));
	CHECK(tern_client_input(client, &connection, msg, len, 1000) == TERN_STATUS_OK);
	CHECK(registered == 1);

	/* Observe /3303/0/5900: GET, token abcd, Observe 0 (empty), Uri-Path 3303/0/5900. */
	static const uint8_t observe[] = {0x42, 0x01, 0x20, 0x01, 0xab, 0xcd, 0x60, 0x54, '3', '3',
					  '0',  '3',  0x01, '0',  0x04, '5',  '9',  '0',  '0'};
	sends = 0;
	CHECK(tern_client_input(client, &connection, observe, sizeof(observe), 1100) == TERN_STATUS_OK);
	CHECK(sends == 1 && last[0] == 0x62 && last[1] == 0x45 && ends_with(last, last_len, "60"));

	/* The awake time (1 s) after the last datagram is over: asleep. */
	CHECK(tern_client_step(client, 2200, &next) == TERN_STATUS_OK);
	CHECK(sleeping == 1);

	/* Three changes while asleep: held, nothing sent. */
	change_while_asleep(client, 41, 3000);
	change_while_asleep(client, 42, 4000);
	change_while_asleep(client, 43, 5000);
	CHECK(drop_events == 0);

	/* The Update wakes the client; once it is answered the three leave, oldest first. */
	CHECK(tern_client_update(client) == TERN_STATUS_OK);
	sends = 0;
	CHECK(tern_client_step(client, 6000, &next) == TERN_STATUS_OK);
	CHECK(sends == 1 && last[1] == 0x02 && awake == 1);
	len = ack_for_last(msg, 0x44, NULL, 0);
	sends = 0;
	CHECK(tern_client_input(client, &connection, msg, len, 6050) == TERN_STATUS_OK);
	CHECK(sends == 3);
	CHECK(ends_with(sent[0], sent_len[0], "41") && ends_with(sent[1], sent_len[1], "42") &&
	      ends_with(sent[2], sent_len[2], "43"));
	CHECK(observe_number(sent[0]) > 0 && observe_number(sent[1]) > observe_number(sent[0]) &&
	      observe_number(sent[2]) > observe_number(sent[1]));

	/* Asleep again; two changes held, then a new registration drops them: reported. */
	CHECK(tern_client_step(client, 7100, &next) == TERN_STATUS_OK);
	CHECK(sleeping == 2);
	change_while_asleep(client, 44, 8000);
	change_while_asleep(client, 45, 9000);
	CHECK(tern_client_restart(client, 9500) == TERN_STATUS_OK);
	sends = 0;
	CHECK(tern_client_step(client, 10000, &next) == TERN_STATUS_OK);
	CHECK(sends >= 1 && last[1] == 0x02);
	len = ack_for_last(msg, 0x41, location, sizeof(location));
	sends = 0;
	CHECK(tern_client_input(client, &connection, msg, len, 10050) == TERN_STATUS_OK);
	CHECK(registered == 2);
	CHECK(drop_events == 1 && dropped == 2);
	CHECK(sends == 0);

	CHECK(tern_client_close(client) == TERN_STATUS_OK);
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
