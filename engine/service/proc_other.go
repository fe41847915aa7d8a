//go:build unix && !linux

package service

import (
	"errors"
	"syscall"
)

// procAttr puts the service in its own process group (so a terminal's
// Ctrl-C reaches planrun only, and Stop can end the whole group). Without
// Linux's parent-death signal, a service orphaned by a killed planrun keeps
// running until it is stopped by hand.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// groupAlive reports whether a process is in the process group pgid
// (zombies included: there is no /proc to tell them apart).
func groupAlive(pgid int) bool {
	return !errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH)
}
