/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * A demo object (33001, "Schedule") whose instances a server creates and deletes, with a
 * multiple-instance resource a server replaces (PUT) or extends (POST), and an executable
 * resource that takes arguments.
 */
#ifndef TERN_EXAMPLE_SCHEDULE_H
#define TERN_EXAMPLE_SCHEDULE_H

#include "tern.h"

/** The object's definition (a static table plus handlers). */
extern const tern_object_def_t schedule_object;

/** Sets up instance 0 ("default", at 06:00 and 18:00); register it with instance 0. */
void schedule_init(void);

#endif
