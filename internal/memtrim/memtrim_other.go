//go:build !linux

package memtrim

func pageOutProgram() (int64, error) { return 0, nil }
