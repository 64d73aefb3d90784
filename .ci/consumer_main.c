/* SPDX-License-Identifier: MIT */
/*
 * A minimal program using the installed or vendored library: the version
 * macros, a constant and three functions from different parts of the
 * library, so that linking pulls real objects. Used by .ci/install_test.sh,
 * .ci/subproject_test.sh and .ci/amalgamation.sh.
 */
#include <stdio.h>
#include <string.h>

#include "vhdxlog.h"

#if VHDXLOG_VERSION_NUMBER < 100
#error "unexpected vhdxlog version"
#endif

int main(void) {
  static const uint8_t zero[16];
  uint8_t guid[16];
  uint32_t crc = vhdxlog_crc32c(0, "123456789", 9);
  const char *name = vhdxlog_status_name(VHDXLOG_E_ENTRY_CHECKSUM);
  vhdxlog_derive_file_write_guid(zero, guid);
  printf("vhdxlog %s crc=%08lx %s guid[7]=%02x\n", VHDXLOG_VERSION_STRING,
         (unsigned long)crc, name, (unsigned)guid[7]);
  if (crc != 0xE3069283u || strcmp(name, "VHDXLOG_E_ENTRY_CHECKSUM") != 0 ||
      (guid[7] & 0xF0) != 0x40)
    return 1;
  return 0;
}
