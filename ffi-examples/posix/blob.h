/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * A demo object (33000, "Blob") with one opaque resource, 33000/0/0, larger than one
 * message: a server reads it block-wise (Block2) and writes it block-wise (Block1).
 */
#ifndef TERN_EXAMPLE_BLOB_H
#define TERN_EXAMPLE_BLOB_H

#include "tern.h"

/** The object's definition (a static table plus handlers). */
extern const tern_object_def_t blob_object;

#endif
