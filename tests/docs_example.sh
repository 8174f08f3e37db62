#!/bin/sh
# docs/LIBRARY.md shows docs/examples/session_example.c as it is: the block between
# <!-- example: ... --> and <!-- /example --> (without its ``` fences) equals the file.
set -eu
cd "$(dirname "$0")/.."
awk '/^<!-- example: docs\/examples\/session_example.c -->$/ {on = 1; next}
     /^<!-- \/example -->$/ {on = 0} on' docs/LIBRARY.md | sed '1d;$d' >"${TMPDIR:-/tmp}/skadi-doc-example.$$"
if ! diff -u "${TMPDIR:-/tmp}/skadi-doc-example.$$" docs/examples/session_example.c; then
  rm -f "${TMPDIR:-/tmp}/skadi-doc-example.$$"
  echo "docs/LIBRARY.md: its example differs from docs/examples/session_example.c" >&2
  exit 1
fi
rm -f "${TMPDIR:-/tmp}/skadi-doc-example.$$"
