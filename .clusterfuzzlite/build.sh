#!/bin/bash -eu
# SPDX-License-Identifier: MIT
# ClusterFuzzLite build: the same script as OSS-Fuzz's, from the checkout
# the Dockerfile copied to $SRC/vhdxlog, so that the two cannot drift.
exec bash -eu "$SRC/vhdxlog/fuzz/oss-fuzz/build.sh"
