/* SPDX-License-Identifier: MIT */
/*
 * A test double for the library's I/O callbacks: an image held in memory,
 * with crash injection (the k-th mutating call and every later one fail
 * without effect, which is what a power cut after k completed writes looks
 * like to a re-run). Used by the unit tests, the differential replayer, the
 * fuzz targets and the benchmark; never shipped.
 */
#ifndef VTK_MEM_FILE_H
#define VTK_MEM_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "vhdxlog.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An image held in memory (tests, fuzzing, the differential replayer). */
typedef struct vtk_mem_file {
  uint8_t *data;
  uint64_t size;
  uint64_t capacity;
  uint64_t max_size;     /* growth beyond this fails (VHDXLOG_E_IO) */
  int64_t fail_at_write; /* -1: never; k: the k-th write/write_zeros/
                            set_size call (0-based) and all later ones fail
                            and change nothing: a crash after k writes */
  uint64_t writes;       /* successful write, write_zeros, set_size calls */
  uint64_t flushes;
  int zero_past_size; /* 1: data[size, capacity) is all zero (a caller that
                         built the file over its own buffer keeps it so):
                         growth within capacity writes no zeros */
} vtk_mem_file;

/* Copy `size` bytes into a new memory file. 0 on success, -1 on ENOMEM or if
 * size > max_size. */
int vtk_mem_open(vtk_mem_file *f, const uint8_t *data, size_t size,
                 uint64_t max_size);
void vtk_mem_close(vtk_mem_file *f);
void vtk_mem_io(vtk_mem_file *f, vhdxlog_io *io);

#ifdef __cplusplus
}
#endif

#endif
