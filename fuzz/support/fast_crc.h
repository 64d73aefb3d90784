/* SPDX-License-Identifier: MIT */
/*
 * A faster CRC-32C for the checksum repair of the fuzz targets
 * (vtk_repair_use_crc()): the repaired targets checksum up to megabytes per
 * input. The CPU's CRC32 instruction where x86 has SSE4.2, else testkit's
 * vtk_crc32c(); same contract (start with 0, chain by passing the result).
 * repair_test checks it against the library's.
 */
#ifndef VHDXLOG_FUZZ_FAST_CRC_H
#define VHDXLOG_FUZZ_FAST_CRC_H

#include <stddef.h>
#include <stdint.h>

uint32_t fuzz_crc32c(uint32_t crc, const void *data, size_t size);

/* 1 when fuzz_crc32c() uses the instruction. */
int fuzz_crc32c_hw(void);

/* vtk_repair_use_crc(fuzz_crc32c), for the repairing targets. */
void fuzz_repair_use_fast_crc(void);

#endif
