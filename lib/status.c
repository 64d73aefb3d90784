/* Names and descriptions of status codes: the words the CLI prints. */
#include "vhdxlog.h"

#include <stddef.h>

typedef struct status_text {
  vhdxlog_status status;
  const char *name;
  const char *text;
} status_text;

static const status_text status_texts[] = {
    {VHDXLOG_OK, "VHDXLOG_OK", "ok"},
    {VHDXLOG_E_ARGUMENT, "VHDXLOG_E_ARGUMENT", "invalid argument"},
    {VHDXLOG_E_IO, "VHDXLOG_E_IO", "I/O callback failed"},
    {VHDXLOG_E_RESOURCE, "VHDXLOG_E_RESOURCE",
     "could not allocate or map the memory the image needs"},
    {VHDXLOG_E_FILE_TOO_SMALL, "VHDXLOG_E_FILE_TOO_SMALL",
     "file smaller than the 1 MiB header area"},
    {VHDXLOG_E_FILE_SIGNATURE, "VHDXLOG_E_FILE_SIGNATURE",
     "file identifier is not \"vhdxfile\""},
    {VHDXLOG_E_NO_VALID_HEADER, "VHDXLOG_E_NO_VALID_HEADER",
     "no header has a valid signature and checksum"},
    {VHDXLOG_E_HEADER_SEQUENCE_TIE, "VHDXLOG_E_HEADER_SEQUENCE_TIE",
     "both headers valid with equal sequence numbers but different contents"},
    {VHDXLOG_E_HEADER_VERSION, "VHDXLOG_E_HEADER_VERSION",
     "header Version is not 1"},
    {VHDXLOG_E_HEADER_LOG_VERSION, "VHDXLOG_E_HEADER_LOG_VERSION",
     "header LogVersion is not 0 while the log is not empty"},
    {VHDXLOG_E_HEADER_LOG_LOCATION, "VHDXLOG_E_HEADER_LOG_LOCATION",
     "header LogOffset/LogLength misaligned or out of range"},
    {VHDXLOG_E_LOG_BEYOND_FILE, "VHDXLOG_E_LOG_BEYOND_FILE",
     "log region extends past the end of the file"},
    {VHDXLOG_E_NO_VALID_REGION_TABLE, "VHDXLOG_E_NO_VALID_REGION_TABLE",
     "no region table has a valid signature and checksum"},
    {VHDXLOG_E_REGION_COUNT, "VHDXLOG_E_REGION_COUNT",
     "region table EntryCount exceeds 2047"},
    {VHDXLOG_E_REGION_ENTRY, "VHDXLOG_E_REGION_ENTRY",
     "region FileOffset/Length misaligned or out of range"},
    {VHDXLOG_E_REGION_DUPLICATE, "VHDXLOG_E_REGION_DUPLICATE",
     "region GUID appears twice"},
    {VHDXLOG_E_REGION_UNKNOWN_REQUIRED, "VHDXLOG_E_REGION_UNKNOWN_REQUIRED",
     "unknown region marked required"},
    {VHDXLOG_E_REGION_MISSING, "VHDXLOG_E_REGION_MISSING",
     "BAT or metadata region missing"},
    {VHDXLOG_E_REGION_OVERLAP, "VHDXLOG_E_REGION_OVERLAP",
     "regions or log overlap"},
    {VHDXLOG_E_ENTRY_SIGNATURE, "VHDXLOG_E_ENTRY_SIGNATURE",
     "entry signature is not \"loge\""},
    {VHDXLOG_E_ENTRY_LENGTH, "VHDXLOG_E_ENTRY_LENGTH",
     "EntryLength is zero, not a multiple of 4 KiB, or longer than the log"},
    {VHDXLOG_E_ENTRY_TAIL, "VHDXLOG_E_ENTRY_TAIL",
     "Tail is not a 4 KiB multiple inside the log, or not in the sequence"},
    {VHDXLOG_E_ENTRY_SEQUENCE_ZERO, "VHDXLOG_E_ENTRY_SEQUENCE_ZERO",
     "entry SequenceNumber is zero"},
    {VHDXLOG_E_ENTRY_RESERVED, "VHDXLOG_E_ENTRY_RESERVED",
     "entry Reserved field is not zero"},
    {VHDXLOG_E_ENTRY_GUID, "VHDXLOG_E_ENTRY_GUID",
     "entry LogGuid differs from the header's"},
    {VHDXLOG_E_ENTRY_FLUSHED_OFFSET, "VHDXLOG_E_ENTRY_FLUSHED_OFFSET",
     "FlushedFileOffset is not a 1 MiB multiple"},
    {VHDXLOG_E_ENTRY_LAST_OFFSET, "VHDXLOG_E_ENTRY_LAST_OFFSET",
     "LastFileOffset is not a 1 MiB multiple"},
    {VHDXLOG_E_ENTRY_DESCRIPTOR_COUNT, "VHDXLOG_E_ENTRY_DESCRIPTOR_COUNT",
     "DescriptorCount needs more sectors than the entry has"},
    {VHDXLOG_E_DESCRIPTOR_SIGNATURE, "VHDXLOG_E_DESCRIPTOR_SIGNATURE",
     "descriptor signature is neither \"zero\" nor \"desc\""},
    {VHDXLOG_E_DESCRIPTOR_RESERVED, "VHDXLOG_E_DESCRIPTOR_RESERVED",
     "zero descriptor Reserved field is not zero"},
    {VHDXLOG_E_DESCRIPTOR_LENGTH, "VHDXLOG_E_DESCRIPTOR_LENGTH",
     "zero descriptor ZeroLength is not a multiple of 4 KiB"},
    {VHDXLOG_E_DESCRIPTOR_OFFSET, "VHDXLOG_E_DESCRIPTOR_OFFSET",
     "descriptor FileOffset is not a multiple of 4 KiB"},
    {VHDXLOG_E_DESCRIPTOR_SEQUENCE, "VHDXLOG_E_DESCRIPTOR_SEQUENCE",
     "descriptor SequenceNumber differs from the entry's"},
    {VHDXLOG_E_DATA_COUNT, "VHDXLOG_E_DATA_COUNT",
     "number of data sectors differs from the number of data descriptors"},
    {VHDXLOG_E_DATA_SIGNATURE, "VHDXLOG_E_DATA_SIGNATURE",
     "data sector signature is not \"data\""},
    {VHDXLOG_E_DATA_SEQUENCE, "VHDXLOG_E_DATA_SEQUENCE",
     "data sector SequenceHigh/Low differ from the entry's"},
    {VHDXLOG_E_ENTRY_CHECKSUM, "VHDXLOG_E_ENTRY_CHECKSUM",
     "entry checksum mismatch"},
    {VHDXLOG_E_LOG_NO_SEQUENCE, "VHDXLOG_E_LOG_NO_SEQUENCE",
     "log is not empty but holds no complete sequence"},
    {VHDXLOG_E_DESCRIPTOR_TARGET, "VHDXLOG_E_DESCRIPTOR_TARGET",
     "descriptor would write into the identifier, the headers or the "
     "reserved space of the first 1 MiB, or into the log"},
    {VHDXLOG_E_FILE_TRUNCATED, "VHDXLOG_E_FILE_TRUNCATED",
     "file is smaller than the log's FlushedFileOffset"},
    {VHDXLOG_E_HEADER_SEQUENCE_LIMIT, "VHDXLOG_E_HEADER_SEQUENCE_LIMIT",
     "header SequenceNumber too large for the header updates a replay needs"},
    {VHDXLOG_E_OFFSET_LIMIT, "VHDXLOG_E_OFFSET_LIMIT",
     "the active sequence writes or sizes the file past 2^62, this "
     "implementation's limit"},
    {VHDXLOG_END, "VHDXLOG_END", "end of iteration"},
};

static const status_text *find_status(vhdxlog_status status) {
  size_t i;
  for (i = 0; i < sizeof status_texts / sizeof status_texts[0]; i++) {
    if (status_texts[i].status == status) {
      return &status_texts[i];
    }
  }
  return NULL;
}

const char *vhdxlog_status_string(vhdxlog_status status) {
  const status_text *t = find_status(status);
  return t != NULL ? t->text : "unknown status";
}

const char *vhdxlog_status_name(vhdxlog_status status) {
  const status_text *t = find_status(status);
  return t != NULL ? t->name : "VHDXLOG_UNKNOWN";
}
