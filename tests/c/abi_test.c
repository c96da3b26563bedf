/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * The C ABI refuses bad arguments with a status instead of crashing: NULL pointers,
 * storage that is too small or misaligned, invalid configurations and object tables,
 * uninitialised clients and oversized datagrams, and values out of range for the standard
 * objects' setters.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tern.h"

#include "check.h"

static int opened, sent;

static tern_status_t fake_open(void *user, const char *uri, size_t len, uint16_t sec, void **conn)
{
	(void)user;
	(void)uri;
	(void)len;
	(void)sec;
	opened++;
	*conn = &opened;
	return TERN_STATUS_OK;
}

static tern_status_t fake_send(void *user, void *conn, const uint8_t *data, size_t len)
{
	(void)user;
	(void)conn;
	(void)data;
	(void)len;
	sent++;
	return TERN_STATUS_OK;
}

static void fake_random(void *user, uint8_t *buf, size_t len)
{
	(void)user;
	memset(buf, 0x5a, len);
}

static tern_status_t read_nothing(void *user, uint16_t iid, uint16_t rid, size_t index, uint16_t *ri,
				  tern_value_t *v)
{
	(void)user;
	(void)iid;
	(void)rid;
	(void)index;
	(void)ri;
	(void)v;
	return TERN_STATUS_NOT_FOUND;
}

static const tern_server_config_t server = {{"coap://127.0.0.1:5683", 21}, 1, 60};

static tern_config_t good_config(void)
{
	tern_config_t c;

	memset(&c, 0, sizeof(c));
	c.endpoint.ptr = "abi-test";
	c.endpoint.len = 8;
	c.lwm2m_version = 11;
	c.servers = &server;
	c.server_count = 1;
	return c;
}

static const tern_platform_t platform = {
	.open = fake_open,
	.send = fake_send,
	.random = fake_random,
};

static tern_client_storage_t storage[2];

static tern_status_t init_with(tern_config_t *cfg, tern_client_t **client)
{
	return tern_client_init(&storage[0], sizeof(storage[0]), cfg, &platform, client);
}

static void test_init_arguments(void)
{
	tern_config_t cfg = good_config();
	tern_client_t *client = NULL;
	tern_platform_t no_send = platform;

	no_send.send = NULL;
	CHECK(tern_client_storage_size() <= TERN_CLIENT_STORAGE_SIZE);
	CHECK(tern_client_init(NULL, sizeof(storage[0]), &cfg, &platform, &client) == TERN_STATUS_NULL_ARG);
	CHECK(tern_client_init(&storage[0], sizeof(storage[0]), NULL, &platform, &client) == TERN_STATUS_NULL_ARG);
	CHECK(tern_client_init(&storage[0], sizeof(storage[0]), &cfg, NULL, &client) == TERN_STATUS_NULL_ARG);
	CHECK(tern_client_init(&storage[0], sizeof(storage[0]), &cfg, &platform, NULL) == TERN_STATUS_NULL_ARG);
	CHECK(tern_client_init(&storage[0], sizeof(storage[0]), &cfg, &no_send, &client) == TERN_STATUS_NULL_ARG);
	CHECK(tern_client_init(&storage[0], tern_client_storage_size() - 1, &cfg, &platform, &client) ==
	      TERN_STATUS_NO_SPACE);
	CHECK(tern_client_init(storage[0].bytes + 1, sizeof(storage) - 8, &cfg, &platform, &client) ==
	      TERN_STATUS_INVALID_ARG);
	CHECK(client == NULL);
}

static void test_bad_configs(void)
{
	tern_client_t *client = NULL;
	tern_config_t cfg = good_config();
	tern_server_config_t bad_server = server;

	cfg.lwm2m_version = 12;
	CHECK(init_with(&cfg, &client) == TERN_STATUS_INVALID_ARG);
	cfg = good_config();
	cfg.endpoint.len = 0;
	CHECK(init_with(&cfg, &client) == TERN_STATUS_INVALID_ARG);
	cfg = good_config();
	cfg.endpoint.ptr = "bad endpoint";
	cfg.endpoint.len = 12;
	CHECK(init_with(&cfg, &client) == TERN_STATUS_INVALID_ARG);
	cfg = good_config();
	cfg.endpoint.ptr = "\xff\xfe";
	cfg.endpoint.len = 2;
	CHECK(init_with(&cfg, &client) == TERN_STATUS_INVALID_ARG);
	cfg = good_config();
	cfg.endpoint.ptr = NULL;
	CHECK(init_with(&cfg, &client) == TERN_STATUS_NULL_ARG);
	cfg = good_config();
	cfg.server_count = 0;
	CHECK(init_with(&cfg, &client) == TERN_STATUS_INVALID_ARG);
	cfg = good_config();
	cfg.server_count = TERN_MAX_SERVERS + 1;
	CHECK(init_with(&cfg, &client) == TERN_STATUS_INVALID_ARG);
	cfg = good_config();
	cfg.servers = NULL;
	CHECK(init_with(&cfg, &client) == TERN_STATUS_NULL_ARG);
	cfg = good_config();
	cfg.servers = &bad_server;
	bad_server.uri.ptr = "http://example";
	bad_server.uri.len = 14;
	CHECK(init_with(&cfg, &client) == TERN_STATUS_INVALID_ARG);
	bad_server = server;
	bad_server.short_server_id = 0;
	CHECK(init_with(&cfg, &client) == TERN_STATUS_INVALID_ARG);
	bad_server = server;
	bad_server.lifetime_s = 0;
	CHECK(init_with(&cfg, &client) == TERN_STATUS_INVALID_ARG);
	CHECK(client == NULL);
}

static const tern_resource_def_t good_table[] = {
	{.id = 5700, .type = TERN_TYPE_FLOAT, .operations = TERN_OP_R, .multiple = false},
};
static const tern_resource_def_t bad_type_table[] = {
	{.id = 5700, .type = 99, .operations = TERN_OP_R, .multiple = false},
};
static const tern_resource_def_t duplicate_table[] = {
	{.id = 5700, .type = TERN_TYPE_FLOAT, .operations = TERN_OP_R, .multiple = false},
	{.id = 5700, .type = TERN_TYPE_FLOAT, .operations = TERN_OP_R, .multiple = false},
};

static void test_objects(void)
{
	tern_client_t *client = NULL;
	tern_config_t cfg = good_config();
	const uint16_t ids[] = {0, 1};
	const uint16_t dup_ids[] = {2, 2};
	tern_object_def_t obj = {
		.id = 3303,
		.version_major = 1,
		.resources = good_table,
		.resource_count = 1,
		.read = read_nothing,
	};
	tern_object_def_t bad = obj;

	CHECK(init_with(&cfg, &client) == TERN_STATUS_OK);
	CHECK(tern_client_add_object(NULL, &obj, NULL, ids, 2) == TERN_STATUS_NULL_ARG);
	CHECK(tern_client_add_object(client, NULL, NULL, ids, 2) == TERN_STATUS_NULL_ARG);
	CHECK(tern_client_add_object(client, &obj, NULL, NULL, 2) == TERN_STATUS_NULL_ARG);
	bad.read = NULL;
	CHECK(tern_client_add_object(client, &bad, NULL, ids, 2) == TERN_STATUS_NULL_ARG);
	bad = obj;
	bad.resources = bad_type_table;
	CHECK(tern_client_add_object(client, &bad, NULL, ids, 2) == TERN_STATUS_INVALID_ARG);
	bad = obj;
	bad.resources = duplicate_table;
	bad.resource_count = 2;
	CHECK(tern_client_add_object(client, &bad, NULL, ids, 2) == TERN_STATUS_INVALID_ARG);
	bad = obj;
	bad.resources = NULL;
	CHECK(tern_client_add_object(client, &bad, NULL, ids, 2) == TERN_STATUS_NULL_ARG);
	bad = obj;
	bad.id = 3;
	CHECK(tern_client_add_object(client, &bad, NULL, ids, 2) == TERN_STATUS_INVALID_ARG);
	bad.id = 65535;
	CHECK(tern_client_add_object(client, &bad, NULL, ids, 2) == TERN_STATUS_INVALID_ARG);
	CHECK(tern_client_add_object(client, &obj, NULL, dup_ids, 2) == TERN_STATUS_INVALID_ARG);
	CHECK(tern_client_add_object(client, &obj, NULL, ids, 2) == TERN_STATUS_OK);
	CHECK(tern_client_add_object(client, &obj, NULL, ids, 2) == TERN_STATUS_INVALID_ARG);
	CHECK(tern_client_set_instance(client, 3303, 1, true) == TERN_STATUS_INVALID_ARG);
	CHECK(tern_client_set_instance(client, 3303, 7, true) == TERN_STATUS_OK);
	CHECK(tern_client_set_instance(client, 3303, 7, false) == TERN_STATUS_OK);
	CHECK(tern_client_set_instance(client, 3303, 7, false) == TERN_STATUS_NOT_FOUND);
	CHECK(tern_client_set_instance(client, 4242, 0, true) == TERN_STATUS_NOT_FOUND);
	CHECK(tern_client_set_instance(client, 3303, 65535, true) == TERN_STATUS_INVALID_ARG);
	CHECK(tern_client_set_device_error(client, 0, true) == TERN_STATUS_INVALID_ARG);
	CHECK(tern_client_set_device_error(client, 33, true) == TERN_STATUS_INVALID_ARG);
	for (uint8_t code = 16; code < 24; code++) {
		CHECK(tern_client_set_device_error(client, code, true) == TERN_STATUS_OK);
	}
	CHECK(tern_client_set_device_error(client, 1, true) == TERN_STATUS_NO_SPACE);
	CHECK(tern_client_set_device_error(client, 16, false) == TERN_STATUS_OK);
	CHECK(tern_client_set_device_error(client, 1, true) == TERN_STATUS_OK);
	CHECK(tern_client_close(client) == TERN_STATUS_OK);
}

static void test_calls_on_bad_clients(void)
{
	tern_client_t *client = NULL;
	tern_config_t cfg = good_config();
	uint64_t next = 0;
	uint8_t datagram[TERN_MAX_MESSAGE_SIZE + 1] = {0x40, 0x01, 0x00, 0x01};

	memset(&storage[1], 0, sizeof(storage[1]));
	CHECK(tern_client_step(NULL, 0, &next) == TERN_STATUS_NULL_ARG);
	CHECK(tern_client_step((tern_client_t *)&storage[1], 0, &next) == TERN_STATUS_BAD_STATE);
	CHECK(tern_client_step((tern_client_t *)(storage[1].bytes + 1), 0, &next) == TERN_STATUS_INVALID_ARG);
	CHECK(tern_client_deregister(NULL) == TERN_STATUS_NULL_ARG);
	CHECK(tern_client_update(NULL) == TERN_STATUS_NULL_ARG);
	CHECK(tern_client_set_device_error(NULL, 1, true) == TERN_STATUS_NULL_ARG);
	CHECK(tern_client_set_device_error((tern_client_t *)&storage[1], 1, true) == TERN_STATUS_BAD_STATE);
	CHECK(tern_client_restart(NULL, 0) == TERN_STATUS_NULL_ARG);
	CHECK(tern_client_close(NULL) == TERN_STATUS_NULL_ARG);
	CHECK(!tern_client_is_idle(NULL));

	CHECK(init_with(&cfg, &client) == TERN_STATUS_OK);
	CHECK(tern_client_step(client, 0, NULL) == TERN_STATUS_OK);
	CHECK(opened == 1 && sent == 1);
	CHECK(tern_client_input(client, &opened, NULL, 4, 0) == TERN_STATUS_NULL_ARG);
	CHECK(tern_client_input(client, NULL, datagram, 4, 0) == TERN_STATUS_NULL_ARG);
	CHECK(tern_client_input(client, &passed, datagram, 4, 0) == TERN_STATUS_NOT_FOUND);
	CHECK(tern_client_input(client, &opened, datagram, sizeof(datagram), 0) == TERN_STATUS_NO_SPACE);
	CHECK(tern_client_input(client, &opened, datagram, 4, 0) == TERN_STATUS_OK);
	CHECK(tern_client_close(client) == TERN_STATUS_OK);
	CHECK(tern_client_step(client, 0, &next) == TERN_STATUS_BAD_STATE);
	CHECK(strcmp(tern_status_str(TERN_STATUS_NULL_ARG), "null argument") == 0);
}

/* Queue mode: the statuses tern_client_set_queue_mode documents. */
static void test_queue_mode(void)
{
	tern_client_t *client = NULL;
	tern_config_t cfg = good_config();

	CHECK(init_with(&cfg, &client) == TERN_STATUS_OK);
	CHECK(tern_client_set_queue_mode(NULL, 0, true, 0) == TERN_STATUS_NULL_ARG);
	CHECK(tern_client_set_queue_mode(client, TERN_MAX_SERVERS, true, 0) == TERN_STATUS_INVALID_ARG);
	CHECK(tern_client_set_queue_mode(client, 0, true, 5000) == TERN_STATUS_OK);
	CHECK(tern_client_set_queue_mode(client, 0, false, 0) == TERN_STATUS_OK);
	CHECK(tern_client_close(client) == TERN_STATUS_OK);
	CHECK(tern_client_set_queue_mode(client, 0, true, 0) == TERN_STATUS_BAD_STATE);
}

/* Factory Access Control: the statuses tern_client_set_acl and tern_client_set_acl_owner
 * document. */
static void test_acl(void)
{
	tern_client_t *client = NULL;
	tern_config_t cfg = good_config();
	uint16_t i;
	tern_status_t st = TERN_STATUS_OK;

	CHECK(init_with(&cfg, &client) == TERN_STATUS_OK);
	CHECK(tern_client_set_acl(NULL, 3, 0, 1, TERN_ACL_READ) == TERN_STATUS_NULL_ARG);
	CHECK(tern_client_set_acl_owner(NULL, 3, 0, 1) == TERN_STATUS_NULL_ARG);
	CHECK(tern_client_set_acl(client, 0, 0, 1, TERN_ACL_READ) == TERN_STATUS_INVALID_ARG);
	CHECK(tern_client_set_acl(client, 65535, 0, 1, TERN_ACL_READ) == TERN_STATUS_INVALID_ARG);
	CHECK(tern_client_set_acl(client, 3, 0, 65535, TERN_ACL_READ) == TERN_STATUS_INVALID_ARG);
	CHECK(tern_client_set_acl_owner(client, 0, 0, 1) == TERN_STATUS_INVALID_ARG);
	/* The default entry and one per server fit; one more does not. */
	for (i = 0; i <= TERN_MAX_SERVERS; i++)
		CHECK(tern_client_set_acl(client, 3, 0, i, TERN_ACL_READ | TERN_ACL_EXECUTE) == TERN_STATUS_OK);
	CHECK(tern_client_set_acl(client, 3, 0, 500, TERN_ACL_READ) == TERN_STATUS_NO_SPACE);
	CHECK(tern_client_set_acl_owner(client, 3, 0, 1) == TERN_STATUS_OK);
	CHECK(tern_client_set_acl(client, 3303, 65535, 1, TERN_ACL_CREATE) == TERN_STATUS_OK);
	/* Fill the table: two instances are taken already. */
	for (i = 0; i + 2 < TERN_MAX_ACL_INSTANCES; i++)
		if (tern_client_set_acl_owner(client, 3303, i, 1) != TERN_STATUS_OK)
			st = TERN_STATUS_INTERNAL;
	CHECK(st == TERN_STATUS_OK);
	CHECK(tern_client_set_acl_owner(client, 3303, 1000, 1) == TERN_STATUS_NO_SPACE);
	CHECK(tern_client_set_acl(client, 3303, 1000, 1, TERN_ACL_READ) == TERN_STATUS_NO_SPACE);
	/* An existing instance can still change. */
	CHECK(tern_client_set_acl(client, 3303, 0, 0, TERN_ACL_WRITE) == TERN_STATUS_OK);
	CHECK(tern_client_close(client) == TERN_STATUS_OK);
	CHECK(tern_client_set_acl(client, 3, 0, 1, TERN_ACL_READ) == TERN_STATUS_BAD_STATE);
}

static void test_standard_objects(void)
{
	static const uint8_t bearers[] = {41, 21};
	static const uint8_t bad_bearers[] = {41, 51};
	static const tern_str_t addresses[] = {{"192.0.2.7", 9}, {"2001:db8::7", 11}};
	static const tern_str_t null_string[] = {{NULL, 0}};
	static const tern_str_t empty_string[] = {{"", 0}};
	static const tern_str_t not_utf8[] = {{"\xff\xfe", 2}};
	static const uint8_t velocity[8] = {0x00, 0x2d, 0x00, 0x05};
	tern_client_t *client = NULL;
	tern_config_t cfg = good_config();
	tern_connectivity_t conn, bad;
	tern_location_t loc, badloc;
	tern_object_def_t obj = {
		.id = 4,
		.version_major = 1,
		.resources = good_table,
		.resource_count = 1,
		.read = read_nothing,
	};

	memset(&conn, 0, sizeof(conn));
	conn.network_bearer = 41;
	conn.radio_signal_strength = -70;
	conn.available_bearers = bearers;
	conn.available_bearer_count = 2;
	conn.ip_addresses = addresses;
	conn.ip_address_count = 2;
	conn.present = TERN_CONNECTIVITY_LINK_UTILIZATION | TERN_CONNECTIVITY_SMCC;
	conn.link_utilization = 100;
	conn.smcc = 999;
	conn.smnc = 5000; /* not present: not checked */
	memset(&loc, 0, sizeof(loc));
	loc.latitude = 48.8584;
	loc.longitude = 2.2945;
	loc.altitude = NAN;
	loc.radius = 5.0;
	loc.speed = NAN;
	loc.timestamp = 1767225600;
	loc.velocity = velocity;
	loc.velocity_len = 4;

	memset(&storage[1], 0, sizeof(storage[1]));
	CHECK(tern_client_set_connectivity(NULL, &conn) == TERN_STATUS_NULL_ARG);
	CHECK(tern_client_set_connectivity((tern_client_t *)&storage[1], &conn) == TERN_STATUS_BAD_STATE);
	CHECK(tern_client_set_location(NULL, &loc) == TERN_STATUS_NULL_ARG);
	CHECK(tern_client_set_location((tern_client_t *)&storage[1], &loc) == TERN_STATUS_BAD_STATE);
	CHECK(tern_client_count_sms(NULL, true, 0) == TERN_STATUS_NULL_ARG);
	CHECK(tern_client_count_sms((tern_client_t *)&storage[1], true, 0) == TERN_STATUS_BAD_STATE);

	CHECK(init_with(&cfg, &client) == TERN_STATUS_OK);
	CHECK(tern_client_set_connectivity(client, NULL) == TERN_STATUS_NULL_ARG);
	bad = conn;
	bad.ip_addresses = NULL;
	CHECK(tern_client_set_connectivity(client, &bad) == TERN_STATUS_NULL_ARG);
	bad.ip_address_count = 0; /* no addresses: allowed, the resource is absent */
	CHECK(tern_client_set_connectivity(client, &bad) == TERN_STATUS_OK);
	bad = conn;
	bad.available_bearers = NULL;
	CHECK(tern_client_set_connectivity(client, &bad) == TERN_STATUS_NULL_ARG);
	bad = conn;
	bad.apns = null_string;
	bad.apn_count = 1;
	CHECK(tern_client_set_connectivity(client, &bad) == TERN_STATUS_NULL_ARG);
	bad.apns = empty_string;
	CHECK(tern_client_set_connectivity(client, &bad) == TERN_STATUS_INVALID_ARG);
	bad.apns = not_utf8;
	CHECK(tern_client_set_connectivity(client, &bad) == TERN_STATUS_INVALID_ARG);
	bad = conn;
	bad.network_bearer = 51;
	CHECK(tern_client_set_connectivity(client, &bad) == TERN_STATUS_INVALID_ARG);
	bad = conn;
	bad.available_bearers = bad_bearers;
	CHECK(tern_client_set_connectivity(client, &bad) == TERN_STATUS_INVALID_ARG);
	bad = conn;
	bad.link_utilization = 101;
	CHECK(tern_client_set_connectivity(client, &bad) == TERN_STATUS_INVALID_ARG);
	bad = conn;
	bad.smcc = 1000;
	CHECK(tern_client_set_connectivity(client, &bad) == TERN_STATUS_INVALID_ARG);
	bad.present |= TERN_CONNECTIVITY_SMNC;
	bad.smcc = 1;
	CHECK(tern_client_set_connectivity(client, &bad) == TERN_STATUS_INVALID_ARG);
	CHECK(tern_client_set_connectivity(client, &conn) == TERN_STATUS_OK);

	CHECK(tern_client_set_location(client, NULL) == TERN_STATUS_NULL_ARG);
	badloc = loc;
	badloc.velocity = NULL;
	CHECK(tern_client_set_location(client, &badloc) == TERN_STATUS_NULL_ARG);
	badloc.velocity_len = 0;
	CHECK(tern_client_set_location(client, &badloc) == TERN_STATUS_OK);
	badloc = loc;
	badloc.velocity_len = sizeof(velocity);
	CHECK(tern_client_set_location(client, &badloc) == TERN_STATUS_INVALID_ARG);
	badloc = loc;
	badloc.latitude = 90.5;
	CHECK(tern_client_set_location(client, &badloc) == TERN_STATUS_INVALID_ARG);
	badloc.latitude = NAN;
	CHECK(tern_client_set_location(client, &badloc) == TERN_STATUS_INVALID_ARG);
	badloc = loc;
	badloc.longitude = -180.5;
	CHECK(tern_client_set_location(client, &badloc) == TERN_STATUS_INVALID_ARG);
	badloc = loc;
	badloc.altitude = INFINITY;
	CHECK(tern_client_set_location(client, &badloc) == TERN_STATUS_INVALID_ARG);
	badloc = loc;
	badloc.radius = -1.0;
	CHECK(tern_client_set_location(client, &badloc) == TERN_STATUS_INVALID_ARG);
	badloc = loc;
	badloc.speed = -0.1;
	CHECK(tern_client_set_location(client, &badloc) == TERN_STATUS_INVALID_ARG);
	CHECK(tern_client_set_location(client, &loc) == TERN_STATUS_OK);

	CHECK(tern_client_count_sms(client, true, 0) == TERN_STATUS_OK);
	CHECK(tern_client_count_sms(client, false, 0) == TERN_STATUS_OK);
	/* The library owns these objects. */
	CHECK(tern_client_add_object(client, &obj, NULL, NULL, 0) == TERN_STATUS_INVALID_ARG);
	obj.id = 6;
	CHECK(tern_client_add_object(client, &obj, NULL, NULL, 0) == TERN_STATUS_INVALID_ARG);
	obj.id = 7;
	CHECK(tern_client_add_object(client, &obj, NULL, NULL, 0) == TERN_STATUS_INVALID_ARG);
	CHECK(tern_client_close(client) == TERN_STATUS_OK);
	CHECK(tern_client_set_location(client, &loc) == TERN_STATUS_BAD_STATE);
	CHECK(tern_client_set_connectivity(client, &conn) == TERN_STATUS_BAD_STATE);
}

/* A bootstrap server account alone (the `bootstrap` feature): the first step opens its
 * connection, the next sends the Bootstrap-Request. */
static void test_bootstrap_config(void)
{
	tern_client_t *client = NULL;
	tern_config_t cfg = good_config();
	uint64_t next = 0;
	int opened_before = opened;
	int sent_before = sent;

	cfg.servers = NULL;
	cfg.server_count = 0;
	cfg.bootstrap_uri.ptr = "http://bs";
	cfg.bootstrap_uri.len = 9;
	CHECK(init_with(&cfg, &client) == TERN_STATUS_INVALID_ARG);
	cfg.bootstrap_uri.ptr = "coap://127.0.0.1:5783";
	cfg.bootstrap_uri.len = 21;
	cfg.bootstrap_flags = TERN_BOOTSTRAP_FIRST;
	CHECK(init_with(&cfg, &client) == TERN_STATUS_OK);
	CHECK(tern_client_step(client, 0, &next) == TERN_STATUS_OK);
	CHECK(opened == opened_before + 1);
	CHECK(next == 0);
	CHECK(tern_client_step(client, next, &next) == TERN_STATUS_OK);
	CHECK(sent == sent_before + 1);

	/* A smartcard blob: NULL, malformed (a part longer than the blob), an unusable one (a
	 * Server instance without its Security instance: TLV instance 0 with ssid 7). */
	static const uint8_t cut[] = {0, 0, 0, 9, 1};
	static const uint8_t orphan[] = {0, 1, 0, 5, 0x03, 0, 0xC1, 0, 7};
	CHECK(tern_client_bootstrap_blob(NULL, cut, sizeof(cut)) == TERN_STATUS_NULL_ARG);
	CHECK(tern_client_bootstrap_blob(client, NULL, 0) == TERN_STATUS_NULL_ARG);
	CHECK(tern_client_bootstrap_blob(client, cut, sizeof(cut)) == TERN_STATUS_INVALID_ARG);
	CHECK(tern_client_bootstrap_blob(client, orphan, sizeof(orphan)) == TERN_STATUS_INVALID_ARG);
	CHECK(tern_client_close(client) == TERN_STATUS_OK);
	CHECK(tern_client_bootstrap_blob(client, cut, sizeof(cut)) == TERN_STATUS_BAD_STATE);
}

int main(void)
{
	test_init_arguments();
	test_bad_configs();
	test_objects();
	test_calls_on_bad_clients();
	test_acl();
	test_queue_mode();
	test_standard_objects();
	test_bootstrap_config();
	printf("abi: %d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
