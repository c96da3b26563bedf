/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * The saved state through the C ABI (tern_platform_t store and load): a client that
 * registered saves a record holding its Location; a client started on the same slots
 * loads it (TERN_EVENT_STATE_RESTORED) and sends an Update to that Location instead of a
 * Register; a damaged record is refused (TERN_EVENT_STATE_REJECTED, a log line) and the
 * client registers; a store that fails is reported (TERN_EVENT_STATE_STORE_FAILED).
 */
#include <stdio.h>
#include <string.h>

#include "tern.h"

#include "check.h"
#include "fake_platform.h"

static uint8_t slots[2][512];
static size_t slot_len[2];
static int store_fails;
static unsigned restored, rejected, store_failed, warnings;
static uint32_t restored_sequence, rejected_reason;

static tern_status_t on_store(void *user, uint8_t slot, uint32_t offset, const uint8_t *data, size_t len)
{
	(void)user;
	if (store_fails || slot > 1 || offset + len > sizeof(slots[0])) {
		return TERN_STATUS_IO;
	}
	memcpy(&slots[slot][offset], data, len);
	if (offset + len > slot_len[slot]) {
		slot_len[slot] = offset + len;
	}
	return TERN_STATUS_OK;
}

static tern_status_t on_load(void *user, uint8_t slot, uint32_t offset, uint8_t *buf, size_t len)
{
	(void)user;
	if (slot > 1 || offset + len > slot_len[slot]) {
		return TERN_STATUS_NOT_FOUND;
	}
	memcpy(buf, &slots[slot][offset], len);
	return TERN_STATUS_OK;
}

static void on_event(void *user, const tern_event_t *e)
{
	(void)user;
	if (e->kind == TERN_EVENT_STATE_RESTORED) {
		restored++;
		restored_sequence = e->value;
	}
	if (e->kind == TERN_EVENT_STATE_REJECTED) {
		rejected++;
		rejected_reason = e->value;
	}
	store_failed += e->kind == TERN_EVENT_STATE_STORE_FAILED;
}

static void on_log(void *user, tern_log_level_t level, const char *line, uint8_t server, uint32_t value)
{
	(void)user;
	(void)line;
	(void)server;
	(void)value;
	warnings += level == TERN_LOG_WARN;
}

static tern_client_t *start(tern_client_storage_t *storage)
{
	tern_config_t config = fake_config("persist");
	tern_platform_t platform = fake_platform(on_event);
	tern_client_t *client = NULL;
	uint64_t next;

	platform.log = on_log;
	platform.store = on_store;
	platform.load = on_load;
	CHECK(tern_client_init(storage, sizeof(*storage), &config, &platform, &client) == TERN_STATUS_OK);
	sends = 0;
	CHECK(tern_client_step(client, 1000, &next) == TERN_STATUS_OK);
	return client;
}

/* True when `len` bytes at `msg` contain the `n` bytes of `part`. */
static int contains(const uint8_t *msg, size_t len, const char *part, size_t n)
{
	for (size_t i = 0; i + n <= len; i++) {
		if (memcmp(msg + i, part, n) == 0) {
			return 1;
		}
	}
	return 0;
}

/* True when the client's request `msg` has the Register's Uri-Query "ep=persist". */
static int has_endpoint_query(const uint8_t *msg, size_t len)
{
	return contains(msg, len, "ep=persist", 10);
}

/* Answers the Register in `last` with 2.01 and Location-Path rd/x. */
static void registered(tern_client_t *client)
{
	static const uint8_t location[] = {0x82, 'r', 'd', 0x01, 'x'};
	uint8_t ack[64];
	size_t n = ack_for_last(ack, 0x41, location, sizeof(location));
	CHECK(tern_client_input(client, &connection, ack, n, 1100) == TERN_STATUS_OK);
}

int main(void)
{
	static tern_client_storage_t a, b, c, d;

	/* A new client: nothing saved yet, it registers, and the Location is saved. */
	tern_client_t *client = start(&a);
	CHECK(restored == 0 && rejected == 0);
	CHECK(sends == 1 && has_endpoint_query(first, last_len));
	registered(client);
	CHECK(slot_len[0] > 12 && memcmp(slots[0], "tern", 4) == 0);
	CHECK(slot_len[1] == 0);

	/* "Reboot": the record is loaded and the client updates the saved Location. */
	client = start(&b);
	CHECK(restored == 1 && restored_sequence == 1);
	CHECK(sends == 1 && (first[1] == 0x02) && !has_endpoint_query(first, last_len));
	CHECK(contains(first, last_len, "\xb2rd\x01x", 5));

	/* A damaged record: refused with a log line, and the client registers. */
	slots[0][20] ^= 0x40;
	warnings = 0;
	client = start(&c);
	CHECK(rejected == 1 && rejected_reason == 1 && warnings >= 1);
	CHECK(sends == 1 && has_endpoint_query(first, last_len));

	/* A store that fails is reported; the slots keep what they had. */
	static uint8_t before[sizeof(slots)];
	memcpy(before, slots, sizeof(slots));
	store_fails = 1;
	registered(client);
	CHECK(store_failed == 1);
	CHECK(memcmp(before, slots, sizeof(slots)) == 0);

	/* Without load and store the client works as before. */
	uint64_t next;
	CHECK(fake_client_init(&d, "plain", NULL, &client) == TERN_STATUS_OK);
	CHECK(tern_client_step(client, 1000, &next) == TERN_STATUS_OK);
	CHECK(restored == 1 && rejected == 1);

	printf("persist_test: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
