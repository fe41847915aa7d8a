package localpg

import "syscall"

// childProcAttr puts initdb or postgres in its own process group (so a terminal's
// Ctrl-C reaches planrun only, and Stop can kill the group) and asks the
// kernel to send it SIGTERM should planrun die without calling Stop.
// (The kernel ties that signal to the thread that started the child; Go only
// ends threads of goroutines that exit while locked with runtime.LockOSThread,
// so do not call Start from such a goroutine.) SIGTERM is PostgreSQL's smart
// shutdown, which completes at once since planrun's connections died with it.
func childProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM, Credential: cred}
}

// niceness is the nice value of what getpriority returned: Linux's system
// call returns 20 − nice.
func niceness(prio int) int { return 20 - prio }
