/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * Blob (33000): resource 0 is an opaque value of up to BLOB_CAPACITY bytes, 1500 bytes of
 * a known pattern (byte i is (i * 7 + 3) mod 256) at start. Whole-value writes go through
 * the write handler; block-wise writes through write_block, which assembles the value in
 * place and keeps the old one until the last block has arrived.
 */
#include "blob.h"

#include <stdio.h>
#include <string.h>

#define BLOB_CAPACITY 4096u
#define BLOB_INITIAL 1500u

static const tern_resource_def_t blob_resources[] = {
	{.id = 0, .type = TERN_TYPE_OPAQUE, .operations = TERN_OP_RW},
};

static uint8_t value[BLOB_CAPACITY];
static size_t value_len;
static uint8_t incoming[BLOB_CAPACITY];
static size_t incoming_len;
static int initialised;

static void blob_init(void)
{
	if (!initialised) {
		for (size_t i = 0; i < BLOB_INITIAL; i++) {
			value[i] = (uint8_t)(i * 7u + 3u);
		}
		value_len = BLOB_INITIAL;
		initialised = 1;
	}
}

static tern_status_t blob_read(void *user, uint16_t instance, uint16_t resource, size_t index,
			       uint16_t *resource_instance, tern_value_t *out)
{
	(void)user;
	(void)index;
	(void)resource_instance;
	if (instance != 0 || resource != 0) {
		return TERN_STATUS_NOT_FOUND;
	}
	blob_init();
	out->type = TERN_TYPE_OPAQUE;
	out->data = value;
	out->len = value_len;
	return TERN_STATUS_OK;
}

static tern_status_t blob_write(void *user, uint16_t instance, uint16_t resource, int32_t resource_instance,
				const tern_value_t *in)
{
	(void)user;
	if (instance != 0 || resource != 0 || resource_instance != -1) {
		return TERN_STATUS_NOT_FOUND;
	}
	if (in->type != TERN_TYPE_OPAQUE || in->len > BLOB_CAPACITY) {
		return TERN_STATUS_INVALID_ARG;
	}
	blob_init();
	if (in->len > 0) {
		memcpy(value, in->data, in->len);
	}
	value_len = in->len;
	printf("tern: write /33000/0/0: %zu bytes\n", value_len);
	return TERN_STATUS_OK;
}

static tern_status_t blob_write_block(void *user, uint16_t instance, uint16_t resource, uint32_t offset,
				      const uint8_t *data, size_t len, bool last)
{
	(void)user;
	if (instance != 0 || resource != 0) {
		return TERN_STATUS_NOT_FOUND;
	}
	if (offset == 0) {
		incoming_len = 0;
	}
	if (offset != incoming_len || len > BLOB_CAPACITY - incoming_len) {
		return TERN_STATUS_INVALID_ARG;
	}
	if (len > 0) {
		memcpy(incoming + incoming_len, data, len);
	}
	incoming_len += len;
	if (last) {
		blob_init();
		memcpy(value, incoming, incoming_len);
		value_len = incoming_len;
		printf("tern: block-wise write /33000/0/0: %zu bytes\n", value_len);
	}
	return TERN_STATUS_OK;
}

const tern_object_def_t blob_object = {
	.id = 33000,
	.version_major = 1,
	.version_minor = 0,
	.resources = blob_resources,
	.resource_count = sizeof(blob_resources) / sizeof(blob_resources[0]),
	.read = blob_read,
	.write = blob_write,
	.write_block = blob_write_block,
};
