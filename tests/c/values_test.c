/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * An application object without handlers: every row points at a variable of its type
 * (integer, unsigned, float, boolean, time, string, opaque, object link, CoRE link). Through
 * the C ABI a server reads the values in text and TLV, writes them in text, opaque, TLV and
 * SenML JSON, and the variables change; a string longer than its buffer or opaque bytes
 * over their capacity get 4.13, an unsigned below 0 and a boolean that is not 0/1 get 4.00,
 * a read-only row gets 4.05, and each leaves every variable as it was, including the other
 * values of a TLV or SenML Write with several resources. tern_client_add_object refuses a
 * value pointer on an executable or multiple-instance row and a string row without buffer
 * size (TERN_STATUS_INVALID_ARG), and a readable row without a value pointer when the
 * object has no read handler (TERN_STATUS_NULL_ARG).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tern.h"

#include "check.h"
#define FAKE_RANDOM_BYTE 0x33
#include "fake_platform.h"

/* ---- the object: its values are these variables ---- */
#define OID 32769
static int64_t integer = -5;
static uint64_t unsigned_value = 10000000000u;
static double real = 2.5;
static bool flag = true;
static int64_t when = 1700000000;
static char name[8] = "abc";
static uint8_t blob_buffer[4] = {1, 2};
static tern_bytes_t blob = {blob_buffer, 2, sizeof(blob_buffer)};
static tern_objlnk_t link = {3, 0};
static char links[16] = "</3/0>";
static int64_t read_only = 77;

static const tern_resource_def_t rows[] = {
	{.id = 1, .type = TERN_TYPE_INTEGER, .operations = TERN_OP_RW, .value = &integer},
	{.id = 2, .type = TERN_TYPE_UNSIGNED, .operations = TERN_OP_RW, .value = &unsigned_value},
	{.id = 3, .type = TERN_TYPE_FLOAT, .operations = TERN_OP_RW, .value = &real},
	{.id = 4, .type = TERN_TYPE_BOOLEAN, .operations = TERN_OP_RW, .value = &flag},
	{.id = 5, .type = TERN_TYPE_TIME, .operations = TERN_OP_RW, .value = &when},
	{.id = 6, .type = TERN_TYPE_STRING, .operations = TERN_OP_RW, .value = name, .value_size = sizeof(name)},
	{.id = 7, .type = TERN_TYPE_OPAQUE, .operations = TERN_OP_RW, .value = &blob},
	{.id = 8, .type = TERN_TYPE_OBJLNK, .operations = TERN_OP_RW, .value = &link},
	{.id = 9, .type = TERN_TYPE_CORELNK, .operations = TERN_OP_R, .value = links, .value_size = sizeof(links)},
	{.id = 10, .type = TERN_TYPE_INTEGER, .operations = TERN_OP_R, .value = &read_only},
};

static const tern_object_def_t values_object = {
	.id = OID,
	.version_major = 1,
	.resources = rows,
	.resource_count = sizeof(rows) / sizeof(rows[0]),
	/* no handlers: every readable and writable row has a value pointer */
};

/* ---- definitions tern_client_add_object refuses ---- */
static tern_status_t execute_nothing(void *user, uint16_t iid, uint16_t rid, const uint8_t *args, size_t len)
{
	(void)user;
	(void)iid;
	(void)rid;
	(void)args;
	(void)len;
	return TERN_STATUS_OK;
}

/* The variables of the second object, which mixes value pointers and a read handler. */
static int64_t spare;
static char text[4];

/* The read handler of the mixed object: only row 2 comes here. */
static unsigned handler_reads;

static tern_status_t read_two(void *user, uint16_t iid, uint16_t rid, size_t index, uint16_t *ri, tern_value_t *v)
{
	(void)user;
	(void)index;
	(void)ri;
	handler_reads++;
	if (iid != 0 || rid != 2) {
		return TERN_STATUS_NOT_FOUND;
	}
	v->type = TERN_TYPE_INTEGER;
	v->i = 222;
	return TERN_STATUS_OK;
}

static void refused_definitions(tern_client_t *client)
{
	const tern_resource_def_t executable = {.id = 1, .type = TERN_TYPE_NONE, .operations = TERN_OP_E, .value = &spare};
	const tern_resource_def_t executable_integer = {
		.id = 1, .type = TERN_TYPE_INTEGER, .operations = TERN_OP_R | TERN_OP_E, .value = &spare};
	const tern_resource_def_t multiple = {
		.id = 1, .type = TERN_TYPE_INTEGER, .operations = TERN_OP_R, .multiple = true, .value = &spare};
	const tern_resource_def_t no_size = {.id = 1, .type = TERN_TYPE_STRING, .operations = TERN_OP_R, .value = text};
	const tern_resource_def_t bad_type = {.id = 1, .type = 42, .operations = TERN_OP_R, .value = &spare};
	const tern_resource_def_t mixed[] = {
		{.id = 1, .type = TERN_TYPE_INTEGER, .operations = TERN_OP_RW, .value = &spare},
		{.id = 2, .type = TERN_TYPE_INTEGER, .operations = TERN_OP_R}, /* needs the read handler */
	};
	tern_object_def_t def = {.id = OID + 1, .version_major = 1, .resource_count = 1, .execute = execute_nothing};

	CHECK(tern_client_add_object(client, NULL, NULL, NULL, 0) == TERN_STATUS_NULL_ARG);
	def.resources = &executable;
	CHECK(tern_client_add_object(client, &def, NULL, NULL, 0) == TERN_STATUS_INVALID_ARG);
	def.resources = &executable_integer;
	CHECK(tern_client_add_object(client, &def, NULL, NULL, 0) == TERN_STATUS_INVALID_ARG);
	def.resources = &multiple;
	CHECK(tern_client_add_object(client, &def, NULL, NULL, 0) == TERN_STATUS_INVALID_ARG);
	def.resources = &no_size;
	CHECK(tern_client_add_object(client, &def, NULL, NULL, 0) == TERN_STATUS_INVALID_ARG);
	def.resources = &bad_type;
	CHECK(tern_client_add_object(client, &def, NULL, NULL, 0) == TERN_STATUS_INVALID_ARG);
	def.resources = mixed;
	def.resource_count = 2;
	CHECK(tern_client_add_object(client, &def, NULL, NULL, 0) == TERN_STATUS_NULL_ARG);
	/* With a read handler for row 2 the mixed table is taken, and its string row with a size;
	 * no write handler: both writable rows have value pointers. */
	static const tern_resource_def_t taken[] = {
		{.id = 1, .type = TERN_TYPE_INTEGER, .operations = TERN_OP_RW, .value = &spare},
		{.id = 2, .type = TERN_TYPE_INTEGER, .operations = TERN_OP_R},
		{.id = 3, .type = TERN_TYPE_STRING, .operations = TERN_OP_RW, .value = text, .value_size = sizeof(text)},
	};
	static const tern_object_def_t mixed_object = {
		.id = OID + 1, .version_major = 1, .resources = taken, .resource_count = 3, .read = read_two};
	spare = 5;
	CHECK(tern_client_add_object(client, &mixed_object, NULL, (const uint16_t[]){0}, 1) == TERN_STATUS_OK);
}

/* ---- CoAP on raw bytes ---- */

static uint16_t next_mid = 0x4000;

/* Sends a confirmable request with Uri-Path `path` ("32769/0/1"), then Content-Format
 * `format` and Accept `accept` when not -1, and `payload`; returns the response code
 * (class * 32 + detail) of the piggybacked answer, 0 when none came. */
static uint8_t request(tern_client_t *client, uint8_t code, const char *path, long format, long accept,
		       const void *payload, size_t payload_len)
{
	uint8_t msg[256];
	size_t n = 0;
	unsigned prev = 0;
	uint16_t mid = next_mid++;

	msg[n++] = 0x42; /* CON, token length 2 */
	msg[n++] = code;
	msg[n++] = (uint8_t)(mid >> 8);
	msg[n++] = (uint8_t)mid;
	msg[n++] = 0xbe;
	msg[n++] = (uint8_t)mid;
	for (const char *seg = path; *seg != '\0';) {
		size_t len = strcspn(seg, "/");
		msg[n++] = (uint8_t)(((11 - prev) << 4) | len);
		prev = 11;
		memcpy(msg + n, seg, len);
		n += len;
		seg += len + (seg[len] == '/');
	}
	long numbers[2] = {12, 17};
	long values[2] = {format, accept};
	for (int i = 0; i < 2; i++) {
		long v = values[i];
		if (v < 0) {
			continue;
		}
		size_t len = v == 0 ? 0 : v < 256 ? 1 : 2;
		msg[n++] = (uint8_t)(((numbers[i] - prev) << 4) | len);
		prev = (unsigned)numbers[i];
		if (len == 2) {
			msg[n++] = (uint8_t)(v >> 8);
		}
		if (len >= 1) {
			msg[n++] = (uint8_t)v;
		}
	}
	if (payload_len > 0) {
		msg[n++] = 0xff;
		memcpy(msg + n, payload, payload_len);
		n += payload_len;
	}
	sends = 0;
	last_len = 0;
	CHECK(tern_client_input(client, &connection, msg, n, 2000 + mid % 1000) == TERN_STATUS_OK);
	if (sends != 1 || last_len < 4 || last[2] != msg[2] || last[3] != msg[3]) {
		return 0;
	}
	return last[1];
}

/* The payload of the last response (after its options), and its length. */
static const uint8_t *response_payload(size_t *len)
{
	size_t i = 4 + (last[0] & 0x0f);
	while (i < last_len && last[i] != 0xff) {
		unsigned delta = last[i] >> 4, olen = last[i] & 0x0f;
		i++;
		i += delta == 13 ? 1 : delta == 14 ? 2 : 0;
		i += olen == 13 ? 1 + 13 + (size_t)last[i] : olen == 14 ? 2 : 0;
		i += olen < 13 ? olen : 0;
	}
	if (i >= last_len) {
		*len = 0;
		return last + last_len;
	}
	*len = last_len - i - 1;
	return last + i + 1;
}

/* A text Read of `path`: 2.05 with exactly `want`. */
static void read_text(tern_client_t *client, const char *path, const char *want)
{
	size_t len;
	CHECK(request(client, 0x01, path, -1, 0, NULL, 0) == 0x45);
	const uint8_t *p = response_payload(&len);
	if (len != strlen(want) || memcmp(p, want, len) != 0) {
		printf("  read %s: got '%.*s', want '%s'\n", path, (int)len, (const char *)p, want);
		CHECK(0);
	}
}

/* A text Write (PUT) of `path`: the response code. */
static uint8_t write_text(tern_client_t *client, const char *path, const char *text)
{
	return request(client, 0x03, path, 0, -1, text, strlen(text));
}

int main(void)
{
	static tern_client_storage_t storage;
	tern_client_t *client = NULL;
	uint64_t next = 0;
	size_t len;
	const uint8_t *p;

	CHECK(fake_client_init(&storage, "values-test", NULL, &client) == TERN_STATUS_OK);
	CHECK(tern_client_add_object(client, &values_object, NULL, (const uint16_t[]){0}, 1) == TERN_STATUS_OK);
	refused_definitions(client);

	/* Register, answered 2.01 Location-Path rd/1. */
	CHECK(tern_client_step(client, 1000, &next) == TERN_STATUS_OK);
	CHECK(sends == 1 && last[1] == 0x02);
	{
		uint8_t ack[32];
		static const uint8_t location[] = {0x82, 'r', 'd', 0x01, '1'};
		len = ack_for_last(ack, 0x41, location, sizeof(location));
		CHECK(tern_client_input(client, &connection, ack, len, 1000) == TERN_STATUS_OK);
	}

	/* Text Reads of every row. */
	read_text(client, "32769/0/1", "-5");
	read_text(client, "32769/0/2", "10000000000");
	read_text(client, "32769/0/3", "2.5");
	read_text(client, "32769/0/4", "1");
	read_text(client, "32769/0/5", "1700000000");
	read_text(client, "32769/0/6", "abc");
	read_text(client, "32769/0/8", "3:0");
	read_text(client, "32769/0/9", "</3/0>");
	read_text(client, "32769/0/10", "77");
	/* The opaque row as application/octet-stream (42). */
	CHECK(request(client, 0x01, "32769/0/7", -1, 42, NULL, 0) == 0x45);
	p = response_payload(&len);
	CHECK(len == 2 && p[0] == 1 && p[1] == 2);

	/* A TLV Read (11542) of the instance: every row, in table order. */
	static const uint8_t tlv_instance[] = {
		0xc1, 1, 0xfb,                                              /* 1: -5 */
		0xc8, 2, 8, 0, 0, 0, 0x02, 0x54, 0x0b, 0xe4, 0x00,          /* 2: 10000000000 */
		0xc4, 3, 0x40, 0x20, 0x00, 0x00,                            /* 3: 2.5 (float32) */
		0xc1, 4, 1,                                                 /* 4: true */
		0xc4, 5, 0x65, 0x53, 0xf1, 0x00,                            /* 5: 1700000000 */
		0xc3, 6, 'a', 'b', 'c',                                     /* 6: "abc" */
		0xc2, 7, 1, 2,                                              /* 7: 01 02 */
		0xc4, 8, 0, 3, 0, 0,                                        /* 8: 3:0 */
		0xc6, 9, '<', '/', '3', '/', '0', '>',                      /* 9: </3/0> */
		0xc1, 10, 77,                                               /* 10: 77 */
	};
	CHECK(request(client, 0x01, "32769/0", -1, 11542, NULL, 0) == 0x45);
	p = response_payload(&len);
	CHECK(len == sizeof(tlv_instance) && memcmp(p, tlv_instance, len) == 0);
	if (len != sizeof(tlv_instance) || memcmp(p, tlv_instance, len) != 0) {
		for (size_t i = 0; i < len; i++) {
			printf("%02x ", p[i]);
		}
		printf("\n");
	}

	/* Text Writes change the variables. */
	CHECK(write_text(client, "32769/0/1", "42") == 0x44 && integer == 42);
	CHECK(write_text(client, "32769/0/2", "18446744073709551615") == 0x44 && unsigned_value == UINT64_MAX);
	CHECK(write_text(client, "32769/0/3", "-0.125") == 0x44 && real == -0.125);
	CHECK(write_text(client, "32769/0/4", "0") == 0x44 && !flag);
	CHECK(write_text(client, "32769/0/5", "1800000000") == 0x44 && when == 1800000000);
	CHECK(write_text(client, "32769/0/6", "hello12") == 0x44 && strcmp(name, "hello12") == 0);
	CHECK(write_text(client, "32769/0/8", "5:7") == 0x44 && link.object_id == 5 && link.instance_id == 7);
	read_text(client, "32769/0/6", "hello12");
	CHECK(write_text(client, "32769/0/6", "") == 0x44 && name[0] == '\0');
	read_text(client, "32769/0/6", "");
	CHECK(write_text(client, "32769/0/6", "hello12") == 0x44);
	/* Refused writes leave the variables alone. */
	CHECK(write_text(client, "32769/0/6", "hello123") == 0x8d && strcmp(name, "hello12") == 0); /* 4.13 */
	CHECK(write_text(client, "32769/0/2", "-1") == 0x80 && unsigned_value == UINT64_MAX);       /* 4.00 */
	CHECK(write_text(client, "32769/0/2", "18446744073709551616") == 0x80 && unsigned_value == UINT64_MAX);
	CHECK(write_text(client, "32769/0/4", "2") == 0x80 && !flag);
	CHECK(write_text(client, "32769/0/1", "1.5") == 0x80 && integer == 42);
	CHECK(write_text(client, "32769/0/10", "1") == 0x85 && read_only == 77); /* 4.05: read-only */
	CHECK(write_text(client, "32769/0/9", "</4>") == 0x85 && strcmp(links, "</3/0>") == 0);

	/* Opaque (42) writes: up to the capacity. */
	static const uint8_t three[] = {0xaa, 0xbb, 0xcc};
	static const uint8_t five[] = {9, 8, 7, 6, 5};
	CHECK(request(client, 0x03, "32769/0/7", 42, -1, three, sizeof(three)) == 0x44 && blob.len == 3 &&
	      memcmp(blob_buffer, three, 3) == 0);
	CHECK(request(client, 0x03, "32769/0/7", 42, -1, five, sizeof(five)) == 0x8d && blob.len == 3 &&
	      memcmp(blob_buffer, three, 3) == 0);

	/* TLV Writes (partial update, POST on the instance): both values, or neither. */
	static const uint8_t tlv_two[] = {0xc1, 1, 7, 0xc4, 6, 'w', 'x', 'y', 'z'};
	CHECK(request(client, 0x02, "32769/0", 11542, -1, tlv_two, sizeof(tlv_two)) == 0x44 && integer == 7 &&
	      strcmp(name, "wxyz") == 0);
	static const uint8_t tlv_too_long[] = {0xc1, 1, 9, 0xc8, 6, 8, 'o', 'v', 'e', 'r', 'f', 'l', 'o', 'w'};
	CHECK(request(client, 0x02, "32769/0", 11542, -1, tlv_too_long, sizeof(tlv_too_long)) == 0x8d &&
	      integer == 7 && strcmp(name, "wxyz") == 0);
	static const uint8_t tlv_blob_too_long[] = {0xc1, 1, 9, 0xc5, 7, 1, 2, 3, 4, 5};
	CHECK(request(client, 0x02, "32769/0", 11542, -1, tlv_blob_too_long, sizeof(tlv_blob_too_long)) == 0x8d &&
	      integer == 7 && blob.len == 3);
	static const uint8_t tlv_mixed[] = {0xc1, 4, 1, 0xc4, 5, 0x00, 0x00, 0x00, 0x2a, 0xc4, 8, 0, 9, 0, 1};
	CHECK(request(client, 0x02, "32769/0", 11542, -1, tlv_mixed, sizeof(tlv_mixed)) == 0x44 && flag &&
	      when == 42 && link.object_id == 9 && link.instance_id == 1);
	/* SenML JSON (110) Writes: the same all-or-nothing rule. */
	static const char senml_too_long[] = "[{\"bn\":\"/32769/0/\",\"n\":\"1\",\"v\":11},{\"n\":\"6\",\"vs\":\"much too long\"}]";
	CHECK(request(client, 0x02, "32769/0", 110, -1, senml_too_long, strlen(senml_too_long)) == 0x8d &&
	      integer == 7 && strcmp(name, "wxyz") == 0);
	static const char senml_ok[] = "[{\"bn\":\"/32769/0/\",\"n\":\"1\",\"v\":11},{\"n\":\"6\",\"vs\":\"json\"}]";
	CHECK(request(client, 0x02, "32769/0", 110, -1, senml_ok, strlen(senml_ok)) == 0x44 && integer == 11 &&
	      strcmp(name, "json") == 0);
	CHECK(write_text(client, "32769/0/1", "7") == 0x44 && write_text(client, "32769/0/6", "wxyz") == 0x44);
	/* A TLV Write (PUT) of one resource. */
	static const uint8_t tlv_float[] = {0xc8, 3, 8, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18};
	CHECK(request(client, 0x03, "32769/0/3", 11542, -1, tlv_float, sizeof(tlv_float)) == 0x44 &&
	      real == 3.141592653589793);
	read_text(client, "32769/0/1", "7");
	read_text(client, "32769/0/6", "wxyz");

	/* The mixed object: rows 1 and 3 from their variables, row 2 from the handler. */
	handler_reads = 0;
	read_text(client, "32770/0/1", "5");
	read_text(client, "32770/0/3", "");
	CHECK(handler_reads == 0);
	read_text(client, "32770/0/2", "222");
	CHECK(handler_reads == 1);
	CHECK(write_text(client, "32770/0/3", "abcd") == 0x8d && text[0] == '\0'); /* no room for the NUL */
	CHECK(write_text(client, "32770/0/3", "abc") == 0x44 && strcmp(text, "abc") == 0);
	CHECK(write_text(client, "32770/0/1", "-9") == 0x44 && spare == -9);
	CHECK(write_text(client, "32770/0/2", "1") == 0x85); /* read-only */
	read_text(client, "32770/0/3", "abc");
	/* The application changes a variable: the next Read has the new value. */
	integer = -123456789012;
	read_text(client, "32769/0/1", "-123456789012");
	/* A string that fills its buffer without a NUL reads as the whole buffer. */
	memcpy(name, "12345678", 8);
	read_text(client, "32769/0/6", "12345678");
	/* Opaque bytes past their capacity are the application's bug: 5.00, not a crash. */
	blob.len = 5;
	CHECK(request(client, 0x01, "32769/0/7", -1, 42, NULL, 0) == 0xa0);
	blob.len = 3;

	CHECK(tern_client_close(client) == TERN_STATUS_OK);
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
