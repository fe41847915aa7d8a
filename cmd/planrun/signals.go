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
	"time"
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
	// The messages go through a printer of their own, so that a stderr
	// that blocks (a full pipe, a writer held by a stuck goroutine) never
	// delays counting: each signal acts first and is reported after.
	msgs := make(chan string, 3)
	lastPrinted := make(chan struct{}) // closed once the third message is out
	go func() {
		n := 0
		for m := range msgs {
			fmt.Fprint(stderr, m)
			if n++; n == 3 {
				close(lastPrinted)
			}
		}
	}()
	say := func(m string) {
		select {
		case msgs <- m:
		default: // the printer is stuck: the action matters, not the message
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(msgs)
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
				stopRun(errors.New(name))
				say(fmt.Sprintf(prefix+"%s: stopping; teardown and report follow (a second signal stops the teardown, a third exits at once)\n", name))
			case 2:
				stopTeardown()
				say(fmt.Sprintf(prefix+"%s again: stopping the teardown (a third signal exits at once)\n", name))
			default:
				// Exit whatever the rest of the process does: the messages
				// get lastWords to be written, no more.
				say(fmt.Sprintf(prefix+"%s a third time: exiting now, without report or clean-up\n", name))
				select {
				case <-lastPrinted:
				case <-time.After(lastWords):
				}
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

// lastWords is how long the third signal waits for its message to be
// written before exiting: 200 ms.
const lastWords = 200 * time.Millisecond

// Release stops catching the signals (their default action is restored)
// and cancels both contexts. Calling it again does nothing.
func (s *stops) Release() { s.release() }
