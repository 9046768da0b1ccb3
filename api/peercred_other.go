//go:build !linux

package api

import "net"

// peerUID is not supported off Linux: no peer is ever the local owner.
func peerUID(c *net.UnixConn) (uint32, bool) { return 0, false }

// PeerCredSupported reports whether LocalOwner can work on this OS.
const PeerCredSupported = false
