#!/bin/sh
# Regenerates grant.pb.go and grant_grpc.pb.go from grant.proto
# (make generate runs it through go generate). Needs protoc
# (Debian: apt-get install protobuf-compiler); the two Go code generators
# are built from the module cache at pinned versions.
set -eu
cd "$(dirname "$0")"
if ! command -v protoc >/dev/null 2>&1; then
	echo "generate.sh: protoc not found; install it (Debian: apt-get install protobuf-compiler)" >&2
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
GOBIN="$tmp" GOFLAGS=-mod=mod go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
PATH="$tmp:$PATH" protoc \
	--go_out=. --go_opt=paths=source_relative \
	--go-grpc_out=. --go-grpc_opt=paths=source_relative \
	grant.proto
