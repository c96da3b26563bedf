/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/* IPSO Temperature (object 3303), one instance, with a simulated sensor. */
#ifndef TERN_EXAMPLE_TEMPERATURE_H
#define TERN_EXAMPLE_TEMPERATURE_H

#include <stdbool.h>
#include <stdint.h>

#include "tern.h"

/** The object's definition (a static table pointing at the values, plus the Reset handler). */
extern const tern_object_def_t temperature_object;

/** Moves the simulated sensor to its value at `now_ms`. */
/* Samples the sensor at `now_ms` (since start); true when the value changed. */
bool temperature_sample(uint64_t now_ms);

#endif
