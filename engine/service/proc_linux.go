package service

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"syscall"
)

// procAttr puts the service in its own process group (so a terminal's
// Ctrl-C reaches planrun only, and Stop can end the whole group) and asks
// the kernel to send it SIGTERM should planrun die without calling Stop.
// (The kernel ties that signal to the thread that started the child; Go
// only ends threads of goroutines that exit while locked with
// runtime.LockOSThread, so do not call Start from such a goroutine.)
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// groupAlive reports whether a live process is in the process group pgid.
// Zombies do not count: a child the service left behind is reaped by init,
// not by planrun, and some inits (a container's) take seconds to do it.
func groupAlive(pgid int) bool {
	if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return true // cannot tell: the signal says a member exists
	}
	for _, e := range procs {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		state, pgrp, ok := procStat(pid)
		if ok && pgrp == pgid && state != 'Z' && state != 'X' {
			return true
		}
	}
	return false
}

// procStat reads a process's state and process group from /proc/PID/stat:
// "pid (comm) state ppid pgrp ...", where comm may hold spaces and ')'.
func procStat(pid int) (state byte, pgrp int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 3 || len(f[0]) != 1 {
		return 0, 0, false
	}
	pgrp, err = strconv.Atoi(string(f[2]))
	return f[0][0], pgrp, err == nil
}
