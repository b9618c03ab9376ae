package memtrim

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// pageOutProgram applies MADV_DONTNEED to the executable's read-only
// mappings. They hold only clean file pages, so this only removes them from
// this process's page tables (and its RSS); the pages stay in the page
// cache, where the next touch (or the next start of the binary) finds them
// without reading the disk. MADV_PAGEOUT would also drop them from the page
// cache when no other process maps them, which made every later start read
// the binary back from disk.
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
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, start, end-start, unix.MADV_DONTNEED); errno != 0 {
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
