#!/usr/bin/env bash
# Tags a release: `npm run release -- 1.2.3` tags v1.2.3 on HEAD and moves the major tag v1 to it,
# as GitHub's action versioning guide recommends; then push with `git push origin v1.2.3 v1 --force`.
set -euo pipefail
version="${1:-}"
if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "Usage: npm run release -- X.Y.Z (semantic version, no leading v)" >&2
  exit 2
fi
if [ -n "$(git status --porcelain)" ]; then
  echo "The working tree has uncommitted changes: commit or stash them first." >&2
  exit 1
fi
# Users run the committed bundle: refuse to tag a dist/ that is not the build of src/.
"$(dirname "$0")/check-dist.sh"
if git rev-parse -q --verify "refs/tags/v$version" >/dev/null; then
  echo "Tag v$version already exists." >&2
  exit 1
fi
major="v${version%%.*}"
git tag -a "v$version" -m "v$version"
git tag -fa "$major" -m "$major -> v$version"
echo "Tagged v$version and moved $major to it. Publish with: git push origin v$version $major --force"
