/* SPDX-License-Identifier: MIT */
/* Whole files into memory: the reproducer's inputs, vhdxlog-diff's and
 * vhdxlog-minimize's. */
#ifndef VHDXLOG_FUZZ_FILE_READ_H
#define VHDXLOG_FUZZ_FILE_READ_H

#include <stddef.h>
#include <stdint.h>

/* The file at `path` in a new heap block of exactly its size (1 byte for
 * an empty file), so that AddressSanitizer and valgrind see a read past
 * it. 0 on success (the caller frees *data); -1 with errno set. */
int fuzz_read_file(const char *path, uint8_t **data, size_t *size);

#endif
