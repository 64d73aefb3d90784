#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turn `vhdxlog check --json` and `vhdxlog dump --json` into result lines.

Usage: summarize.py CASE CHECK.json DUMP.json

One line per fact, each starting with CASE, in a fixed order, so that the
lines can be compared with expected.txt by diff: the check verdict, every
entry candidate, the active sequence and every descriptor in replay order.
Paths are left out (they differ between runs).
"""
import json
import sys


def h(v):
    return "-" if v is None else hex(v)


def err(e):
    if not e:
        return "-"
    s = e["name"]
    c = e.get("cause")
    if c:
        s += "/%s@%s" % (c["name"], h(c.get("offset")))
    if e.get("index") is not None:
        s += "#%d" % e["index"]
    return s


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    case = sys.argv[1]
    with open(sys.argv[2]) as f:
        chk = json.load(f)
    with open(sys.argv[3]) as f:
        dmp = json.load(f)
    out = []
    out.append("check exit=%d result=%s log=%s replayed_size=%s error=%s" % (
        chk["exit_code"], chk["result"], chk["log_state"],
        h(chk.get("replayed_size")), err(chk.get("error"))))
    for c in dmp.get("candidates") or []:
        line = "cand %s seq=%d len=%s tail=%s" % (
            h(c["offset"]), c["sequence_number"], h(c["length"]), h(c["tail"]))
        if c["valid"]:
            line += " valid desc=%d data=%d zero=%d flushed=%s last=%s" % (
                c["descriptor_count"], c["data_count"], c["zero_count"],
                h(c["flushed_file_offset"]), h(c["last_file_offset"]))
        else:
            line += " invalid %s" % err(c.get("error"))
        out.append(line)
    s = dmp.get("sequence")
    if s:
        out.append("seq tail=%s head=%s entries=%d len=%s tailseq=%d headseq=%d "
                   "desc=%d flushed=%s last=%s max_write_end=%s" % (
                       h(s["tail_offset"]), h(s["head_offset"]),
                       s["entry_count"], h(s["length"]),
                       s["tail_sequence_number"], s["head_sequence_number"],
                       s["descriptor_count"], h(s["flushed_file_offset"]),
                       h(s["last_file_offset"]), h(s["max_write_end"])))
    else:
        out.append("seq none")
    for d in dmp.get("descriptors") or []:
        out.append("desc %s file=%s len=%s entry=%s index=%d" % (
            d["kind"], h(d["file_offset"]), h(d["length"]),
            h(d["entry_offset"]), d["index"]))
    out.append("dump error=%s" % err(dmp.get("error")))
    for line in out:
        print("%s %s" % (case, line))


if __name__ == "__main__":
    main()
