/* SPDX-License-Identifier: MIT */
/*
 * Structure-aware mutation of packed images (packed.h): change one field of
 * one log entry (a header field, a descriptor, a data sector) or copy one
 * entry elsewhere in the log, in place. Blind byte mutations hit a given
 * 8-byte field of a ~20 KiB input about once in 2500 tries and most of them
 * also shift the layout; this hits one every time. The target repairs the
 * checksums afterwards (repair.h), so the entry stays valid unless the
 * change breaks one of its rules, which is the point.
 */
#ifndef VHDXLOG_REPLAY_DIFF_PACKED_MUTATE_H
#define VHDXLOG_REPLAY_DIFF_PACKED_MUTATE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Mutate `data` (`size` bytes, a packed image) in place using the random
 * stream seeded with `seed`. Returns 1 if a field was changed, 0 if the
 * input holds no log entry to work on (the caller then mutates blindly). */
int rd_mutate_packed(uint8_t *data, size_t size, uint32_t seed);

#ifdef __cplusplus
}
#endif
#endif
