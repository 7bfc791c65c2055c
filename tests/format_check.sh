#!/usr/bin/env bash
# Every C++ source of the project is as clang-format (.clang-format) writes it; prints the
# first differences and exits 1 otherwise.
set -euo pipefail
cd "$1"
mapfile -t files < <(find src include tests bench fuzz -name node_modules -prune -o \
  \( -name '*.cpp' -o -name '*.hpp' \) -print | sort)
((${#files[@]} > 100)) || { echo "format_check: found only ${#files[@]} sources" >&2; exit 1; }
clang-format --dry-run --Werror "${files[@]}"
echo "format_check: ${#files[@]} files formatted"
