/* SPDX-License-Identifier: MIT */
/* Internal: the region tables (MS-VHDX 2.2.3), judged as on disk or as a
 * replay leaves them. */
#ifndef VHDXLOG_REGION_H
#define VHDXLOG_REGION_H

#include "linkage.h"

#include "vhdxlog.h"

/*
 * Judge both region-table copies in `header_area` (the first 1 MiB), each
 * 4 KiB sector replaced as `patches` says (VHDXLOG_REGION_PATCHES entries,
 * sector k of the area at VHDXLOG_REGION_AREA_BEGIN + 4096 k; NULL: as on
 * disk; `log` is read for data patches), then the log's overlap with the
 * copy in use. Fills *info (info->error too) and returns its status.
 */
VHDXLOG_INTERNAL vhdxlog_status
vhdxlog_region_judge(const uint8_t *header_area, const vhdxlog_log *log,
                     const vhdxlog_region_patch *patches, uint64_t log_offset,
                     uint64_t log_length, vhdxlog_region_info *info);

/* Record that a replay writes [offset, offset + length) with the data
 * descriptor `d` (NULL: zeros): the region-table sectors it covers take
 * their bytes from it. Ranges outside the region tables change nothing. */
VHDXLOG_INTERNAL void vhdxlog_region_patch_write(vhdxlog_region_patch *patches,
                                                 uint64_t offset,
                                                 uint64_t length,
                                                 const vhdxlog_descriptor *d);

#endif
