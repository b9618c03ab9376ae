package memtrim

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// pageOutProgram applies MADV_PAGEOUT (Linux 5.4+) to the executable's
// mappings that are neither writable nor private copies: they hold only
// clean file pages, which the kernel drops and reads back on demand.
func pageOutProgram() (int64, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var total int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		start, end, ok := readOnlyMapping(sc.Text(), exe)
		if !ok {
			continue
		}
		// The raw call: these addresses are not Go memory, so they stay
		// uintptrs rather than becoming a slice.
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, start, end-start, unix.MADV_PAGEOUT); errno != 0 {
			return total, errno
		}
		total += int64(end - start)
	}
	return total, sc.Err()
}

// readOnlyMapping parses one /proc/self/maps line and reports the range of
// a read-only mapping of the file path.
func readOnlyMapping(line, path string) (start, end uintptr, ok bool) {
	fs := strings.Fields(line)
	if len(fs) < 6 || fs[5] != path || strings.Contains(fs[1], "w") {
		return 0, 0, false
	}
	a, b, found := strings.Cut(fs[0], "-")
	if !found {
		return 0, 0, false
	}
	s, err1 := strconv.ParseUint(a, 16, 64)
	e, err2 := strconv.ParseUint(b, 16, 64)
	if err1 != nil || err2 != nil || e <= s {
		return 0, 0, false
	}
	return uintptr(s), uintptr(e), true
}
