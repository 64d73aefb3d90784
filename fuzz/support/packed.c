/* SPDX-License-Identifier: MIT */
/* Packed images (see packed.h). */
#include "packed.h"
#include "repair.h"

#include <stdlib.h>
#include <string.h>

#define MIB 1048576u

/* Where each kept piece of the file sits in the packed form. */
typedef struct piece {
  size_t packed_at;
  size_t file_at;
  size_t length;
} piece;

static const piece pieces[] = {
    {2, 0, 8},                             /* identifier */
    {10, 65536, 4096},                     /* header 1 */
    {4106, 131072, 4096},                  /* header 2 */
    {8202, 196608, RD_PACKED_REGION_KEPT}, /* region table 1 */
    {8202 + RD_PACKED_REGION_KEPT, 262144, RD_PACKED_REGION_KEPT}, /* 2 */
};
#define PIECES (sizeof pieces / sizeof pieces[0])

uint64_t rd_unpacked_size(const uint8_t *packed, size_t size) {
  size_t tail = size > RD_PACKED_FIXED ? size - RD_PACKED_FIXED : 0;
  uint64_t extra = size > 1 ? packed[1] : 0;
  return (uint64_t)MIB + tail + extra * RD_PACKED_EXTRA_UNIT;
}

/* Copy what a packed form of `size` bytes holds of piece `p` into `head`;
 * the number of bytes copied (0: the input ends before the piece). */
static size_t copy_piece(const piece *p, const uint8_t *packed, size_t size,
                         uint8_t *head) {
  size_t n;
  if (size <= p->packed_at)
    return 0;
  n = size - p->packed_at < p->length ? size - p->packed_at : p->length;
  memcpy(head + p->file_at, packed + p->packed_at, n);
  return n;
}

void rd_unpack_head(const uint8_t *packed, size_t size, uint8_t *head) {
  size_t i;
  memset(head, 0, MIB);
  for (i = 0; i < PIECES; i++)
    (void)copy_piece(&pieces[i], packed, size, head);
}

const uint8_t *rd_packed_tail(const uint8_t *packed, size_t size,
                              size_t *length) {
  *length = size > RD_PACKED_FIXED ? size - RD_PACKED_FIXED : 0;
  return packed + (size > RD_PACKED_FIXED ? RD_PACKED_FIXED : size);
}

size_t rd_unpack_sparse(const uint8_t *packed, size_t size, uint8_t *image,
                        unsigned *options,
                        uint64_t ranges[RD_PACKED_RANGES][2]) {
  size_t i, n = 0, tail;
  const uint8_t *tail_bytes = rd_packed_tail(packed, size, &tail);

  *options = size > 0 ? packed[0] : 0;
  for (i = 0; i < PIECES; i++) {
    size_t len = copy_piece(&pieces[i], packed, size, image);
    if (len > 0) {
      ranges[n][0] = pieces[i].file_at;
      ranges[n][1] = pieces[i].file_at + len;
      n++;
    }
  }
  if (tail > 0) {
    memcpy(image + MIB, tail_bytes, tail);
    ranges[n][0] = MIB;
    ranges[n][1] = (uint64_t)MIB + tail;
    n++;
  }
  return n;
}

int rd_unpack(const uint8_t *packed, size_t size, uint64_t max_size,
              uint8_t **image, size_t *image_size, unsigned *options) {
  uint64_t total = rd_unpacked_size(packed, size);
  uint64_t ranges[RD_PACKED_RANGES][2];
  uint8_t *out;

  *image = NULL;
  *image_size = 0;
  *options = size > 0 ? packed[0] : 0;
  if (total > max_size || total > (uint64_t)SIZE_MAX)
    return -1;
  out = calloc(1, (size_t)total);
  if (out == NULL)
    return -1;
  (void)rd_unpack_sparse(packed, size, out, options, ranges);
  *image = out;
  *image_size = (size_t)total;
  return 0;
}

int rd_pack(const uint8_t *image, size_t size, unsigned options,
            uint8_t **packed, size_t *packed_size) {
  size_t end = size, tail, extra, i;
  uint8_t *out;

  *packed = NULL;
  *packed_size = 0;
  if (image == NULL || size < MIB)
    return -1;
  while (end > MIB && image[end - 1] == 0)
    end--;
  /* Trailing zeros as whole 64 KiB units, at most 255 of them; the tail
   * keeps the remainder. */
  extra = (size - end) / RD_PACKED_EXTRA_UNIT;
  if (extra > 255)
    extra = 255;
  tail = size - MIB - extra * RD_PACKED_EXTRA_UNIT;
  out = calloc(1, RD_PACKED_FIXED + tail);
  if (out == NULL)
    return -1;
  out[0] = (uint8_t)options;
  out[1] = (uint8_t)extra;
  for (i = 0; i < PIECES; i++)
    memcpy(out + pieces[i].packed_at, image + pieces[i].file_at,
           pieces[i].length);
  memcpy(out + RD_PACKED_FIXED, image + MIB, tail);
  *packed = out;
  *packed_size = RD_PACKED_FIXED + tail;
  return 0;
}

unsigned rd_packed_repair_options(unsigned options) {
  unsigned flags = 0;
  if ((options & 1u) == 0)
    flags |= VTK_REPAIR_HEADERS;
  if ((options & 2u) == 0)
    flags |= VTK_REPAIR_REGIONS;
  if ((options & 4u) == 0)
    flags |= VTK_REPAIR_ENTRIES;
  if ((options & 8u) != 0)
    flags |= VTK_REPAIR_ENTRY_GUID;
  if ((options & 16u) != 0)
    flags |= VTK_REPAIR_ENTRY_SEQUENCE;
  return flags;
}
