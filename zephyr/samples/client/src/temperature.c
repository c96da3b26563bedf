/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * IPSO Temperature (3303), as in ffi-examples/posix/temperature.c: Sensor Value 5700, Units
 * 5701, Min/Max Measured 5601/5602 and Reset Min and Max Measured Values 5605. The
 * "sensor" is a triangle wave between 18 and 26 degrees with a period of 80 s. The values
 * are variables the rows point at: the engine reads them itself.
 */
#include <zephyr/logging/log.h>

#include "temperature.h"

LOG_MODULE_REGISTER(temperature, LOG_LEVEL_INF);

static double value = 22.0;
static double min_measured = 22.0;
static double max_measured = 22.0;
static char units[] = "Cel";

static const tern_resource_def_t temperature_resources[] = {
	{.id = 5700, .type = TERN_TYPE_FLOAT, .operations = TERN_OP_R, .value = &value},
	{.id = 5701, .type = TERN_TYPE_STRING, .operations = TERN_OP_R, .value = units, .value_size = sizeof(units)},
	{.id = 5601, .type = TERN_TYPE_FLOAT, .operations = TERN_OP_R, .value = &min_measured},
	{.id = 5602, .type = TERN_TYPE_FLOAT, .operations = TERN_OP_R, .value = &max_measured},
	{.id = 5605, .type = TERN_TYPE_NONE, .operations = TERN_OP_E},
};

bool temperature_sample(uint64_t now_ms)
{
	/* Tenths of a degree, 0..80 and back, every 40 s. The engine reads these variables on
	 * the tern work queue: change them under its lock. */
	uint64_t phase = (now_ms / 500) % 160;
	uint64_t tenths = phase < 80 ? phase : 160 - phase;

	tern_zephyr_lock();
	double before = value;

	value = 18.0 + (double)tenths / 10.0;
	if (value < min_measured) {
		min_measured = value;
	}
	if (value > max_measured) {
		max_measured = value;
	}
	tern_zephyr_unlock();
	return value != before;
}

static tern_status_t temperature_execute(void *user, uint16_t instance, uint16_t resource, const uint8_t *args,
					 size_t len)
{
	(void)user;
	(void)args;
	(void)len;
	if (instance != 0 || resource != 5605) {
		return TERN_STATUS_NOT_FOUND;
	}
	/* Runs on the tern work queue, with the engine's lock held. */
	min_measured = value;
	max_measured = value;
	LOG_INF("execute /3303/0/5605: min/max reset");
	return TERN_STATUS_OK;
}

const tern_object_def_t temperature_object = {
	.id = 3303,
	.version_major = 1,
	.version_minor = 1,
	.resources = temperature_resources,
	.resource_count = sizeof(temperature_resources) / sizeof(temperature_resources[0]),
	.execute = temperature_execute,
};
