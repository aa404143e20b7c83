# Sourced by .ci/run after 20-dist.sh: no entry of a packaged archive (tar,
# zip, deb, rpm) is group- or world-writable, whatever the builder's umask
# (20-dist.sh builds once under umask 0002 and once under 0022 and compares
# the checksums). Listing: tar and bsdtar (libarchive-tools, which also
# reads .zip and .rpm), dpkg-deb for .deb.
bash scripts/dist-modes.sh dist
