//go:build unix && !linux

package localpg

import "syscall"

// childProcAttr puts initdb or postgres in its own process group (so a terminal's
// Ctrl-C reaches planrun only, and Stop can kill the group). Without Linux's
// parent-death signal, a server orphaned by a killed planrun notices only
// when its clients go; its directory is removed by the next Start (see sweepStale).
func childProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Credential: cred}
}

// niceness is the nice value of what getpriority returned (libc's
// getpriority returns the nice value itself).
func niceness(prio int) int { return prio }
