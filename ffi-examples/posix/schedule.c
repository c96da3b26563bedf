/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * Schedule (33001), a demo object of up to MAX_SCHEDULES instances that a server creates
 * (Create) and deletes (Delete):
 *   0 Name   string, RW
 *   1 Times  integer, RW, multiple: minutes after midnight (0..1439), up to MAX_TIMES.
 *            A replacing Write (PUT) first empties the list (clear_resource), then the
 *            write handler receives each time the server sent; a partial update (POST)
 *            only adds and updates times.
 *   2 Run    executable: runs the schedule now; prints the Execute arguments it got
 *            (the library has checked them against the LwM2M argument grammar).
 * The library keeps the instance list and tells the server about new and deleted
 * instances (a registration Update); this file keeps only the values.
 */
#include "schedule.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define MAX_SCHEDULES 4
#define MAX_TIMES 8
#define MAX_NAME 32
#define MINUTES_PER_DAY 1440

static const tern_resource_def_t schedule_resources[] = {
	{.id = 0, .type = TERN_TYPE_STRING, .operations = TERN_OP_RW},
	{.id = 1, .type = TERN_TYPE_INTEGER, .operations = TERN_OP_RW, .multiple = true},
	{.id = 2, .type = TERN_TYPE_NONE, .operations = TERN_OP_E},
};

struct schedule {
	int used;
	uint16_t instance;
	char name[MAX_NAME];
	size_t name_len;
	struct {
		uint16_t id; /* resource instance id */
		int64_t minute;
	} times[MAX_TIMES];
	size_t time_count;
};

static struct schedule schedules[MAX_SCHEDULES];

static struct schedule *find(uint16_t instance)
{
	for (size_t i = 0; i < MAX_SCHEDULES; i++) {
		if (schedules[i].used && schedules[i].instance == instance) {
			return &schedules[i];
		}
	}
	return NULL;
}

void schedule_init(void)
{
	struct schedule *s = &schedules[0];

	memset(schedules, 0, sizeof(schedules));
	s->used = 1;
	s->instance = 0;
	s->name_len = strlen("default");
	memcpy(s->name, "default", s->name_len);
	s->times[0].id = 0;
	s->times[0].minute = 6 * 60;
	s->times[1].id = 1;
	s->times[1].minute = 18 * 60;
	s->time_count = 2;
}

static tern_status_t schedule_read(void *user, uint16_t instance, uint16_t resource, size_t index,
				   uint16_t *resource_instance, tern_value_t *out)
{
	struct schedule *s = find(instance);

	(void)user;
	if (s == NULL) {
		return TERN_STATUS_NOT_FOUND;
	}
	switch (resource) {
	case 0:
		out->type = TERN_TYPE_STRING;
		out->data = (const uint8_t *)s->name;
		out->len = s->name_len;
		return TERN_STATUS_OK;
	case 1:
		/* Called with index 0, 1, ...: NOT_FOUND past the last time. */
		if (index >= s->time_count) {
			return TERN_STATUS_NOT_FOUND;
		}
		*resource_instance = s->times[index].id;
		out->type = TERN_TYPE_INTEGER;
		out->i = s->times[index].minute;
		return TERN_STATUS_OK;
	default:
		return TERN_STATUS_NOT_FOUND;
	}
}

static tern_status_t schedule_write(void *user, uint16_t instance, uint16_t resource, int32_t resource_instance,
				    const tern_value_t *in)
{
	struct schedule *s = find(instance);

	(void)user;
	if (s == NULL) {
		return TERN_STATUS_NOT_FOUND;
	}
	if (resource == 0 && in->type == TERN_TYPE_STRING) {
		if (in->len > MAX_NAME) {
			return TERN_STATUS_INVALID_ARG;
		}
		if (in->len > 0) {
			memcpy(s->name, in->data, in->len);
		}
		s->name_len = in->len;
		printf("tern: schedule %u name '%.*s'\n", instance, (int)s->name_len, s->name);
		return TERN_STATUS_OK;
	}
	if (resource != 1 || resource_instance < 0 || in->type != TERN_TYPE_INTEGER) {
		return TERN_STATUS_INVALID_ARG;
	}
	if (in->i < 0 || in->i >= MINUTES_PER_DAY) {
		return TERN_STATUS_INVALID_ARG;
	}
	size_t i = 0;
	while (i < s->time_count && s->times[i].id != (uint16_t)resource_instance) {
		i++;
	}
	if (i == s->time_count) { /* a new resource instance */
		if (s->time_count == MAX_TIMES) {
			return TERN_STATUS_NO_SPACE;
		}
		s->time_count++;
		s->times[i].id = (uint16_t)resource_instance;
	}
	s->times[i].minute = in->i;
	printf("tern: schedule %u time %" PRId32 " = %02d:%02d\n", instance, resource_instance, (int)(in->i / 60),
	       (int)(in->i % 60));
	return TERN_STATUS_OK;
}

static tern_status_t schedule_clear(void *user, uint16_t instance, uint16_t resource)
{
	struct schedule *s = find(instance);

	(void)user;
	if (s == NULL || resource != 1) {
		return TERN_STATUS_NOT_FOUND;
	}
	s->time_count = 0;
	printf("tern: schedule %u times cleared\n", instance);
	return TERN_STATUS_OK;
}

static tern_status_t schedule_execute(void *user, uint16_t instance, uint16_t resource, const uint8_t *args,
				      size_t len)
{
	(void)user;
	if (find(instance) == NULL || resource != 2) {
		return TERN_STATUS_NOT_FOUND;
	}
	/* Printable ASCII only: the library refused anything else with 4.00 Bad Request. */
	printf("tern: run /33001/%u/2 arguments [%.*s]\n", instance, (int)len, (const char *)args);
	return TERN_STATUS_OK;
}

static tern_status_t schedule_create(void *user, uint16_t instance)
{
	(void)user;
	for (size_t i = 0; i < MAX_SCHEDULES; i++) {
		if (!schedules[i].used) {
			memset(&schedules[i], 0, sizeof(schedules[i]));
			schedules[i].used = 1;
			schedules[i].instance = instance;
			printf("tern: schedule %u created\n", instance);
			return TERN_STATUS_OK;
		}
	}
	return TERN_STATUS_NO_SPACE;
}

static tern_status_t schedule_delete(void *user, uint16_t instance)
{
	struct schedule *s = find(instance);

	(void)user;
	if (s == NULL) {
		return TERN_STATUS_NOT_FOUND;
	}
	s->used = 0;
	printf("tern: schedule %u deleted\n", instance);
	return TERN_STATUS_OK;
}

const tern_object_def_t schedule_object = {
	.id = 33001,
	.version_major = 1,
	.version_minor = 0,
	.resources = schedule_resources,
	.resource_count = sizeof(schedule_resources) / sizeof(schedule_resources[0]),
	.read = schedule_read,
	.write = schedule_write,
	.execute = schedule_execute,
	.create_instance = schedule_create,
	.delete_instance = schedule_delete,
	.clear_resource = schedule_clear,
};
