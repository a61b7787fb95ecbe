#!/usr/bin/env bash
# Runners execute the committed bundle: fails when dist/ is not exactly the build of src/ (the
# committed dist/ is put back first). One check for .ci/run, the check-dist workflow and release.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build >/dev/null
if [ -n "$(git status --porcelain -- dist)" ]; then
  # An annotation on GitHub, a plain line elsewhere
  echo "${GITHUB_ACTIONS:+::error::}dist/ is not the build of src/: run 'npm run build' and commit dist/." >&2
  git status --short -- dist >&2
  git checkout -- dist
  git clean -fdq -- dist
  exit 1
fi
echo "dist/ is the build of src/."
