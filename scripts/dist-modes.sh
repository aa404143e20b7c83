#!/usr/bin/env bash
# dist-modes.sh DIR: fails, naming each entry, when a package in DIR
# (*.tar.gz, *.zip, *.deb, *.rpm) holds a group- or world-writable file or
# directory. Symbolic links (lrwxrwxrwx) are exempt: their mode means nothing.
set -euo pipefail
dir="${1:-dist}"
bad=0
list() { # FILE: "MODE PATH" lines
  case "$1" in
    *.deb) dpkg-deb -c "$1" | awk '{print $1, $6}' ;;
    *) bsdtar -tvf "$1" | awk '{print $1, $9}' ;;
  esac
}
shopt -s nullglob
pkgs=("$dir"/*.tar.gz "$dir"/*.zip "$dir"/*.deb "$dir"/*.rpm)
[ ${#pkgs[@]} -gt 0 ] || { echo "dist-modes.sh: no packages in $dir" >&2; exit 1; }
for f in "${pkgs[@]}"; do
  while read -r mode path; do
    case "$mode" in l*) continue ;; esac
    if [ "${mode:5:1}" = w ] || [ "${mode:8:1}" = w ]; then
      echo "$f: $path is $mode (group- or world-writable)" >&2
      bad=1
    fi
  done < <(list "$f")
done
if [ "$bad" != 0 ]; then
  echo "dist-modes.sh: give every packaged file an explicit mode in scripts/dist.sh" >&2
  exit 1
fi
echo "dist-modes.sh: ${#pkgs[@]} packages, no group- or world-writable entry" >&2
