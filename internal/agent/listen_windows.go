//go:build windows

package agent

import (
	"errors"
	"net"
)

var errWindows = errors.New("the lanyard agent does not run on Windows; helpers answer in-process there")

// Listen is not available on Windows.
func Listen(string) (net.Listener, func(), error) { return nil, nil, errWindows }

// ListenForward is not available on Windows.
func ListenForward(string) (net.Listener, error) { return nil, errWindows }
