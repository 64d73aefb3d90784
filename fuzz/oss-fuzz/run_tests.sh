#!/bin/bash -eu
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 the vhdxlog authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
#
################################################################################
# OSS-Fuzz run_tests.sh (upstream: projects/vhdxlog/run_tests.sh): the
# project's own unit tests in the build image, built apart from the fuzz
# build (no sanitizer or coverage flags of the fuzz build), in $WORK so
# that the checkout stays as it was. Needs cmake and libcmocka-dev (the
# Dockerfile installs them).
ROOT=${VHDXLOG_SRC:-$SRC/vhdxlog}
BUILD=${WORK:-/tmp}/vhdxlog-tests
rm -rf "$BUILD"
env -u CFLAGS -u CXXFLAGS -u LDFLAGS CC=clang \
  cmake -S "$ROOT" -B "$BUILD" -DVHDXLOG_BUILD_TOOLS=ON -DVHDXLOG_BUILD_TESTS=ON
env -u CFLAGS -u CXXFLAGS -u LDFLAGS cmake --build "$BUILD" -j"$(nproc)"
# -LE slow: the interop tests against qemu-img, which the image lacks.
ctest --test-dir "$BUILD" --output-on-failure -LE slow -j"$(nproc)"
