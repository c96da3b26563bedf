/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * A C object whose instances a server creates and deletes, through the C ABI: the client
 * registers (answered 2.01), a Create of /3303 in TLV reaches the object's create and
 * write handlers and is answered 2.01 with Location-Path 3303/4, the registration Update
 * that follows lists </3303/4>, a Delete of /3303/4 reaches the delete handler, an
 * object without create/delete handlers answers 4.05, and an Execute of the Device
 * object's Factory Reset (/3/0/5) reaches the application as an event; an error code the
 * application raises is what a server reads at /3/0/11, until it executes /3/0/12.
 * The standard objects of the default build: the Register lists </4>, </6> (no instance
 * until the application sets one) and </7/0>; tern_client_set_location announces </6/0>
 * in an Update and a server reads the fix; Connectivity Statistics counts the datagrams
 * that went through tern_client_input and send once a server executed Start.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tern.h"

#include "check.h"
#include "fake_platform.h"

static unsigned factory_resets, reboots;

static void on_event(void *user, const tern_event_t *event)
{
	(void)user;
	factory_resets += event->kind == TERN_EVENT_FACTORY_RESET_REQUESTED;
	reboots += event->kind == TERN_EVENT_REBOOT_REQUESTED;
}

/* ---- the object: up to four instances, each with one writable integer (5900) ---- */
static const tern_resource_def_t resources[] = {
	{.id = 5900, .type = TERN_TYPE_INTEGER, .operations = TERN_OP_RW, .multiple = false},
};
static int created[4], deleted[4];
static int64_t interval[8];

static tern_status_t obj_read(void *user, uint16_t iid, uint16_t rid, size_t index, uint16_t *ri, tern_value_t *v)
{
	(void)user;
	(void)index;
	(void)ri;
	if (rid != 5900 || iid >= 8) {
		return TERN_STATUS_NOT_FOUND;
	}
	v->type = TERN_TYPE_INTEGER;
	v->i = interval[iid];
	return TERN_STATUS_OK;
}

static tern_status_t obj_write(void *user, uint16_t iid, uint16_t rid, int32_t ri, const tern_value_t *v)
{
	(void)user;
	(void)ri;
	if (rid != 5900 || iid >= 8 || v->type != TERN_TYPE_INTEGER) {
		return TERN_STATUS_INVALID_ARG;
	}
	interval[iid] = v->i;
	return TERN_STATUS_OK;
}

static tern_status_t obj_create(void *user, uint16_t iid)
{
	(void)user;
	created[iid % 4]++;
	return iid < 8 ? TERN_STATUS_OK : TERN_STATUS_NO_SPACE;
}

static tern_status_t obj_delete(void *user, uint16_t iid)
{
	(void)user;
	deleted[iid % 4]++;
	return TERN_STATUS_OK;
}

static const tern_object_def_t dynamic_object = {
	.id = 3303,
	.version_major = 1,
	.version_minor = 0,
	.resources = resources,
	.resource_count = 1,
	.read = obj_read,
	.write = obj_write,
	.create_instance = obj_create,
	.delete_instance = obj_delete,
};

static const tern_object_def_t fixed_object = {
	.id = 3304,
	.version_major = 1,
	.version_minor = 0,
	.resources = resources,
	.resource_count = 1,
	.read = obj_read,
	.write = obj_write,
};

/* ---- CoAP helpers on raw bytes ---- */

static int payload_contains(const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; i + n <= last_len; i++) {
		if (memcmp(last + i, needle, n) == 0) {
			return 1;
		}
	}
	return 0;
}

/* A text Read of `path` (Uri-Path options already encoded): 2.05 with payload `want`. */
static void read_text(tern_client_t *client, uint16_t mid, const uint8_t *path, size_t path_len, const char *want)
{
	uint8_t req[32] = {0x42, 0x01, (uint8_t)(mid >> 8), (uint8_t)mid, 0xab, 0xcd};
	size_t n = strlen(want);

	memcpy(req + 6, path, path_len);
	sends = 0;
	CHECK(tern_client_input(client, &connection, req, 6 + path_len, 6000 + mid % 100) == TERN_STATUS_OK);
	CHECK(sends == 1 && last[1] == 0x45 && last_len > n && memcmp(last + last_len - n, want, n) == 0 &&
	      last[last_len - n - 1] == 0xff);
}

static void standard_objects(tern_client_t *client)
{
	tern_location_t fix;
	uint64_t next = 0;
	uint8_t msg[32];
	size_t len;

	memset(&fix, 0, sizeof(fix));
	fix.latitude = 45.5;
	fix.longitude = -73.5;
	fix.altitude = NAN; /* unknown */
	fix.radius = NAN;
	fix.speed = NAN;
	fix.timestamp = 1767225600;
	/* The Updates after the Create and the Delete are still unanswered: answer the
	 * retransmission and what follows until nothing is left to send. */
	sends = 0;
	CHECK(tern_client_step(client, 5000, &next) == TERN_STATUS_OK);
	CHECK(sends == 1 && last[1] == 0x02 && !payload_contains("</6/0>"));
	for (int i = 0; i < 4 && sends > 0; i++) {
		len = ack_for_last(msg, 0x44, NULL, 0);
		sends = 0;
		CHECK(tern_client_input(client, &connection, msg, len, 5000) == TERN_STATUS_OK);
		CHECK(tern_client_step(client, 5000, &next) == TERN_STATUS_OK);
	}
	CHECK(sends == 0);
	/* The first fix makes instance 0: an Update announces it. */
	CHECK(tern_client_set_location(client, &fix) == TERN_STATUS_OK);
	CHECK(tern_client_step(client, 5000, &next) == TERN_STATUS_OK);
	CHECK(sends == 1 && last[1] == 0x02 && payload_contains("</6/0>"));
	len = ack_for_last(msg, 0x44, NULL, 0);
	CHECK(tern_client_input(client, &connection, msg, len, 5000) == TERN_STATUS_OK);
	/* A later fix changes no object list: no Update. */
	fix.latitude = 45.25;
	sends = 0;
	CHECK(tern_client_set_location(client, &fix) == TERN_STATUS_OK);
	CHECK(tern_client_step(client, 5000, &next) == TERN_STATUS_OK);
	CHECK(sends == 0);
	fix.latitude = 45.5;
	CHECK(tern_client_set_location(client, &fix) == TERN_STATUS_OK);
	static const uint8_t latitude[] = {0xb1, '6', 0x01, '0', 0x01, '0'};
	read_text(client, 0x1301, latitude, sizeof(latitude), "45.5");
	static const uint8_t altitude[] = {0xb1, '6', 0x01, '0', 0x01, '2'};
	sends = 0;
	msg[0] = 0x42, msg[1] = 0x01, msg[2] = 0x13, msg[3] = 0x02, msg[4] = 0xab, msg[5] = 0xce;
	memcpy(msg + 6, altitude, sizeof(altitude));
	CHECK(tern_client_input(client, &connection, msg, 6 + sizeof(altitude), 6002) == TERN_STATUS_OK);
	CHECK(sends == 1 && last[1] == 0x84); /* absent: 4.04 */

	/* Start (2.04, a 6-byte ACK: 34 bytes with IP and UDP), then a 12-byte Read of
	 * /7/0/4 (40 bytes, counted before it is answered): the largest message so far. */
	static const uint8_t start[] = {0x42, 0x02, 0x13, 0x10, 0xab, 0xd0, 0xb1, '7', 0x01, '0', 0x01, '6'};
	sends = 0;
	CHECK(tern_client_input(client, &connection, start, sizeof(start), 6100) == TERN_STATUS_OK);
	CHECK(sends == 1 && last[1] == 0x44 && last_len == 6);
	static const uint8_t max_size[] = {0xb1, '7', 0x01, '0', 0x01, '4'};
	read_text(client, 0x1311, max_size, sizeof(max_size), "40");
	static const uint8_t tx_kb[] = {0xb1, '7', 0x01, '0', 0x01, '2'};
	read_text(client, 0x1312, tx_kb, sizeof(tx_kb), "1");
	static const uint8_t rx_kb[] = {0xb1, '7', 0x01, '0', 0x01, '3'};
	read_text(client, 0x1313, rx_kb, sizeof(rx_kb), "1");
	CHECK(tern_client_count_sms(client, true, 6200) == TERN_STATUS_OK);
	static const uint8_t sms_tx[] = {0xb1, '7', 0x01, '0', 0x01, '0'};
	read_text(client, 0x1314, sms_tx, sizeof(sms_tx), "1");
}

int main(void)
{
	static tern_client_storage_t storage;
	tern_client_t *client = NULL;
	uint64_t next = 0;
	uint8_t msg[128];
	size_t len;

	CHECK(fake_client_init(&storage, "objects-test", on_event, &client) == TERN_STATUS_OK);
	CHECK(tern_client_add_object(client, &dynamic_object, NULL, NULL, 0) == TERN_STATUS_OK);
	CHECK(tern_client_add_object(client, &fixed_object, NULL, (const uint16_t[]){0}, 1) == TERN_STATUS_OK);

	/* Register, answered 2.01 Location-Path rd/1. */
	CHECK(tern_client_step(client, 1000, &next) == TERN_STATUS_OK);
	CHECK(sends == 1 && last[1] == 0x02);
	CHECK(payload_contains("</3/0>,</4>,</6>,</7/0>,"));
	static const uint8_t location[] = {0x82, 'r', 'd', 0x01, '1'};
	len = ack_for_last(msg, 0x41, location, sizeof(location));
	CHECK(tern_client_input(client, &connection, msg, len, 1000) == TERN_STATUS_OK);

	/* Create /3303 with Object Instance 4 { 5900 = 30 } in TLV (11542 = 0x2d16). */
	static const uint8_t create[] = {
		0x42, 0x02, 0x12, 0x34, 0xaa, 0xbb,              /* CON POST, MID 0x1234, token aabb */
		0xb4, '3', '3', '0', '3',                         /* Uri-Path 3303 */
		0x12, 0x2d, 0x16,                                 /* Content-Format 11542 */
		0xff, 0x08, 0x04, 0x04, 0xe1, 0x17, 0x0c, 0x1e,  /* instance 4: 5900 = 30 */
	};
	sends = 0;
	CHECK(tern_client_input(client, &connection, create, sizeof(create), 1100) == TERN_STATUS_OK);
	CHECK(sends >= 1);
	CHECK(created[0] == 1 && interval[4] == 30);
	/* The ACK: 2.01 (0x41) with Location-Path 3303 then 4. */
	static const uint8_t created_location[] = {0x84, '3', '3', '0', '3', 0x01, '4'};
	CHECK(first[0] == 0x62 && first[1] == 0x41 && memcmp(first + 6, created_location, sizeof(created_location)) == 0);
	CHECK(tern_client_step(client, 1100, &next) == TERN_STATUS_OK);
	CHECK(last[1] == 0x02 && payload_contains("</3303/4>"));

	/* Delete /3303/4: 2.02, and the delete handler ran. */
	static const uint8_t del[] = {0x42, 0x04, 0x12, 0x35, 0xaa, 0xbc, 0xb4, '3', '3', '0', '3', 0x01, '4'};
	sends = 0;
	CHECK(tern_client_input(client, &connection, del, sizeof(del), 1200) == TERN_STATUS_OK);
	CHECK(sends == 1 && last[1] == 0x42 && deleted[0] == 1);

	/* The object without handlers answers 4.05 to both. */
	static const uint8_t create_fixed[] = {0x42, 0x02, 0x12, 0x36, 0xaa, 0xbd, 0xb4, '3', '3', '0', '4'};
	sends = 0;
	CHECK(tern_client_input(client, &connection, create_fixed, sizeof(create_fixed), 1300) == TERN_STATUS_OK);
	CHECK(sends == 1 && last[1] == 0x85);
	static const uint8_t delete_fixed[] = {0x42, 0x04, 0x12, 0x37, 0xaa, 0xbe, 0xb4, '3', '3', '0', '4', 0x01, '0'};
	sends = 0;
	CHECK(tern_client_input(client, &connection, delete_fixed, sizeof(delete_fixed), 1400) == TERN_STATUS_OK);
	CHECK(sends == 1 && last[1] == 0x85);

	/* Execute /3/0/5 (Factory Reset): 2.04, then the event; not a reboot. */
	static const uint8_t factory_reset[] = {0x42, 0x02, 0x12, 0x38, 0xaa, 0xbf, 0xb1, '3', 0x01, '0', 0x01, '5'};
	sends = 0;
	CHECK(tern_client_input(client, &connection, factory_reset, sizeof(factory_reset), 1500) == TERN_STATUS_OK);
	CHECK(sends == 1 && last[1] == 0x44);
	CHECK(tern_client_step(client, 1500, &next) == TERN_STATUS_OK);
	CHECK(factory_resets == 1 && reboots == 0);

	/* Error code 5 raised: a text Read of /3/0/11/0 gives "5"; after /3/0/12, "0". */
	CHECK(tern_client_set_device_error(client, 5, true) == TERN_STATUS_OK);
	static const uint8_t read_error[] = {0x42, 0x01, 0x12, 0x39, 0xaa, 0xc0, 0xb1, '3', 0x01, '0', 0x02, '1', '1', 0x01, '0'};
	sends = 0;
	CHECK(tern_client_input(client, &connection, read_error, sizeof(read_error), 1600) == TERN_STATUS_OK);
	CHECK(sends == 1 && last[1] == 0x45 && last[last_len - 2] == 0xff && last[last_len - 1] == '5');
	static const uint8_t reset_errors[] = {0x42, 0x02, 0x12, 0x3a, 0xaa, 0xc1, 0xb1, '3', 0x01, '0', 0x02, '1', '2'};
	CHECK(tern_client_input(client, &connection, reset_errors, sizeof(reset_errors), 1700) == TERN_STATUS_OK);
	CHECK(last[1] == 0x44);
	static const uint8_t read_error_again[] = {0x42, 0x01, 0x12, 0x3b, 0xaa, 0xc2, 0xb1, '3', 0x01, '0', 0x02, '1', '1', 0x01, '0'};
	CHECK(tern_client_input(client, &connection, read_error_again, sizeof(read_error_again), 1800) == TERN_STATUS_OK);
	CHECK(last[1] == 0x45 && last[last_len - 1] == '0');

	standard_objects(client);
	CHECK(tern_client_close(client) == TERN_STATUS_OK);
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
