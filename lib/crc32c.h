/* SPDX-License-Identifier: MIT */
/* CRC-32C internals shared by the library, its tests and the benchmark. */
#ifndef VHDXLOG_CRC32C_H
#define VHDXLOG_CRC32C_H

#include "linkage.h"

#include <stddef.h>
#include <stdint.h>

/*
 * Raw register update: reflected CRC-32C over `size` bytes starting from
 * register `reg`, no pre/post inversion. The standard CRC-32C of a message
 * is ~crc32c_update(~0u, msg).
 */
VHDXLOG_INTERNAL uint32_t vhdxlog_crc32c_update_portable(uint32_t reg,
                                                         const uint8_t *p,
                                                         size_t size);
VHDXLOG_INTERNAL uint32_t vhdxlog_crc32c_update_hw(uint32_t reg,
                                                   const uint8_t *p,
                                                   size_t size);
VHDXLOG_INTERNAL int vhdxlog_crc32c_hw_available(void);
/* Dispatches to the hardware path when the CPU has one. */
VHDXLOG_INTERNAL uint32_t vhdxlog_crc32c_update(uint32_t reg, const uint8_t *p,
                                                size_t size);

#endif
