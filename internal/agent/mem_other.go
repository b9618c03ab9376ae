//go:build !linux

package agent

func physMemory() int64 { return 0 }
