package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// stopSignals stop a run, all alike: Ctrl-C, SIGTERM (CI cancelling a job),
// SIGHUP (the terminal closed) and SIGQUIT (Ctrl-\, which Go would
// otherwise answer with a stack dump and exit 2, the code of an invalid plan).
var stopSignals = map[os.Signal]string{
	os.Interrupt:    "SIGINT",
	syscall.SIGTERM: "SIGTERM",
	syscall.SIGHUP:  "SIGHUP",
	syscall.SIGQUIT: "SIGQUIT",
}

// stops counts the stop signals of one command:
//   - the first cancels Run (with the signal's name as the cause): the load
//     ends, and the report and the teardown follow;
//   - the second cancels Teardown: the statement running is cancelled and
//     the rest are listed as not run;
//   - the third exits at once with code 4 (ExitAborted), whatever hangs:
//     no report, no teardown, and an embedded server is left to the kernel
//     (its postmaster gets SIGTERM when planrun dies) and its directory to
//     the next run, which removes it.
type stops struct {
	Run      context.Context
	Teardown context.Context
	release  func()
}

// catchStops starts counting stop signals, reporting each on stderr (after
// clearing the progress line when tty). exit ends the process (os.Exit
// outside tests). Call Release once the command no longer needs them caught.
func catchStops(stderr io.Writer, tty bool, exit func(code int)) *stops {
	prefix := "planrun: "
	if tty {
		prefix = "\r\033[K" + prefix
	}
	run, stopRun := context.WithCancelCause(context.Background())
	teardown, stopTeardown := context.WithCancel(context.Background())
	ch := make(chan os.Signal, len(stopSignals))
	sigs := make([]os.Signal, 0, len(stopSignals))
	for sig := range stopSignals {
		sigs = append(sigs, sig)
	}
	signal.Notify(ch, sigs...)
	done := make(chan struct{})
	go func() {
		for n := 1; ; n++ {
			var sig os.Signal
			select {
			case sig = <-ch:
			case <-done:
				return
			}
			name := stopSignals[sig]
			switch n {
			case 1:
				fmt.Fprintf(stderr, prefix+"%s: stopping; teardown and report follow (a second signal stops the teardown, a third exits at once)\n", name)
				stopRun(errors.New(name))
			case 2:
				fmt.Fprintf(stderr, prefix+"%s again: stopping the teardown (a third signal exits at once)\n", name)
				stopTeardown()
			default:
				fmt.Fprintf(stderr, prefix+"%s a third time: exiting now, without report or clean-up\n", name)
				exit(ExitAborted)
				return
			}
		}
	}()
	return &stops{Run: run, Teardown: teardown, release: sync.OnceFunc(func() {
		signal.Stop(ch)
		close(done)
		stopRun(nil)
		stopTeardown()
	})}
}

// Release stops catching the signals (their default action is restored)
// and cancels both contexts. Calling it again does nothing.
func (s *stops) Release() { s.release() }
