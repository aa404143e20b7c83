package client

import "net"

func (c *Client) checkPath(path string) (int64, error) { return -1, nil }

func verifyPeer(net.Conn, int64) error { return nil }

func (c *Client) forwardGone(string) error { return nil }
