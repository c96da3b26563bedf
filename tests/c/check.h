/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/* The one assertion the C tests use: counts passes and failures, prints each failure. */
#ifndef TERN_TEST_CHECK_H
#define TERN_TEST_CHECK_H

#include <stdio.h>

static int passed, failed;

#define CHECK(cond)                                                                                                    \
	do {                                                                                                           \
		if (cond) {                                                                                            \
			passed++;                                                                                      \
		} else {                                                                                               \
			failed++;                                                                                      \
			printf("FAILED %s:%d: %s\n", __FILE__, __LINE__, #cond);                                       \
		}                                                                                                      \
	} while (0)

#endif
