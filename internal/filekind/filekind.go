// Package filekind names the kind of a file that is not a regular one, for
// messages that refuse it ("plan.yaml is a directory, not a regular file").
package filekind

import "os"

// Of names the kind of a file of mode m: "a directory", "a named pipe
// (FIFO)", "a socket", "a character device", "a device", or "not a regular
// file" for any other non-regular kind. It is meant for files that are not
// regular; for a regular file it says "a regular file".
func Of(m os.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}
