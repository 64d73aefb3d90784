/* SPDX-License-Identifier: MIT */
/*
 * Shared between the files of io/, not part of its API: the POSIX backend's
 * hole finder and size query (also used by the mapping), and the test the
 * loader uses to find a POSIX file behind a vhdxlog_io.
 */
#ifndef VHDXLOG_IO_INTERNAL_H
#define VHDXLOG_IO_INTERNAL_H

#include <stdint.h>

#include "vhdxlog_io.h"

/* Where the data at or after `pos` begins and ends, below `end`: 0 with
 * [*data, *hole) (*data == end: only a hole is left); -1 when the file
 * system cannot tell (the caller then treats [pos, end) as data). */
int vhdxlog_io_next_data(int fd, uint64_t pos, uint64_t end, uint64_t *data,
                         uint64_t *hole);

/* Size of a regular file or a block device (BLKGETSIZE64). 0, or -1 with
 * errno. */
int vhdxlog_io_file_size(int fd, uint64_t *size);

/* The POSIX file behind `io` when vhdxlog_posix_io() filled it, else NULL:
 * the loader maps such a file's log instead of reading it. */
vhdxlog_posix_file *vhdxlog_io_posix_file(const vhdxlog_io *io);

#endif
