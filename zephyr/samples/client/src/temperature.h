/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/* IPSO Temperature (object 3303), one instance, with a simulated sensor. */
#ifndef TERN_SAMPLE_TEMPERATURE_H
#define TERN_SAMPLE_TEMPERATURE_H

#include <stdbool.h>
#include <stdint.h>

#include "tern.h"
#include "tern_zephyr.h"

/** The object's definition (a static table pointing at the values, plus the Reset handler). */
extern const tern_object_def_t temperature_object;

/** Samples the sensor at `now_ms`; true when the value changed. */
bool temperature_sample(uint64_t now_ms);

#endif
