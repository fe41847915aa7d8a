package localpg

import "syscall"

// serverProcAttr puts postgres in its own process group (so a terminal's
// Ctrl-C reaches planrun only, and Stop can kill the group) and asks the
// kernel to send it SIGTERM should planrun die without calling Stop.
func serverProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM, Credential: cred}
}
