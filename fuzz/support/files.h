/* SPDX-License-Identifier: MIT */
/* Whole files read and written, folders walked: for the reproducer,
 * vhdxlog-diff, vhdxlog-minimize and gen_corpus. */
#ifndef VHDXLOG_FUZZ_FILES_H
#define VHDXLOG_FUZZ_FILES_H

#include <stddef.h>
#include <stdint.h>

/* The file at `path` in a new heap block of exactly its size (1 byte for
 * an empty file), so that AddressSanitizer and valgrind see a read past
 * it. 0 on success (the caller frees *data); -1 with errno set. */
int fuzz_read_file(const char *path, uint8_t **data, size_t *size);

/* `head_size` bytes of `head`, then `size` bytes of `data`, as the file at
 * `path` (created or truncated). 0 on success; -1 with errno set. */
int fuzz_write_file(const char *path, const uint8_t *head, size_t head_size,
                    const uint8_t *data, size_t size);

/* fn(path, ctx) or, for a folder, fuzz_walk() of every entry in it (in name
 * order, dot files skipped). A path that cannot be listed goes to `fn`,
 * whose read then fails and says why. Returns the OR of what `fn` returned
 * (1 too where memory ran out). */
int fuzz_walk(const char *path, int (*fn)(const char *path, void *ctx),
              void *ctx);

#endif
