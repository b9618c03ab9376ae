// Package memtrim gives back the memory a process needed only to start.
//
// Start-up decodes schemas, registers types and runs the init code of every
// package linked in; little of that is touched again. Trim returns the
// garbage heap to the operating system and, on Linux, unmaps the program's
// read-only mappings (code and constant data) from the process: pages still
// in use fault back in from the page cache on their next use, so what stays
// resident is the idle working set, and the page cache keeps the binary warm
// for the next start.
package memtrim

import "runtime/debug"

// Result tells what Trim released, for a log line.
type Result struct {
	// PagedOut is the size of the read-only program mappings the kernel was
	// asked to page out (0 where that is not supported).
	PagedOut int64
	Err      error
}

// Trim releases start-up memory. It is safe to call at any time; it only
// costs the page faults of pages used again.
func Trim() Result {
	debug.FreeOSMemory()
	n, err := pageOutProgram()
	return Result{PagedOut: n, Err: err}
}
