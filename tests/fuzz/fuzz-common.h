/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers the fuzz targets share. */
#ifndef CLQ_FUZZ_COMMON_H
#define CLQ_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <clq/clq.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A log handler that drops everything: errors are the expected outcome. */
static inline void
fuzz_quiet(enum clq_log_level level, const char *message, void *user_data)
{
	(void)level;
	(void)message;
	(void)user_data;
}

/* The next `n` input bytes, big-endian; zeros once the input runs out. */
static inline uint64_t
fuzz_take(const uint8_t **p, size_t *left, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++) {
		v <<= 8;
		if (*left) {
			v |= **p;
			(*p)++;
			(*left)--;
		}
	}
	return v;
}

#endif
