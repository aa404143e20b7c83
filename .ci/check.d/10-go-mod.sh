# Sourced by .ci/run after `make test`: go.mod is tidy, and its `go` line
# names a Go that really builds and passes (the oldest one it allows).
make mod-check
make test-go-min
