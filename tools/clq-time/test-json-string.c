/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Writes each NUL-terminated record of stdin as a JSON string, one a line,
 * with clq-time's json_write_string(); check-json-string.py reads the
 * lines back with Python's json module. (A C string cannot hold NUL, so
 * NUL is the separator; a last record without one counts too.)
 */
#include <stdlib.h>

#include "clq-time.h"

int
main(void)
{
	size_t cap = 4096, len = 0, n;
	char *buf = malloc(cap);

	while (buf && (n = fread(buf + len, 1, cap - len - 1, stdin)) > 0) {
		char *bigger;

		len += n;
		if (cap - len > 1)
			continue;
		bigger = realloc(buf, 2 * cap);
		if (!bigger) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = bigger;
		cap *= 2;
	}
	if (!buf || ferror(stdin)) {
		fputs("test-json-string: cannot read stdin\n", stderr);
		free(buf);
		return 1;
	}
	buf[len] = '\0';
	for (size_t i = 0; i < len; i++) {
		json_write_string(stdout, buf + i);
		putchar('\n');
		while (buf[i])
			i++;
	}
	free(buf);
	return fflush(stdout) == 0 ? 0 : 1;
}
