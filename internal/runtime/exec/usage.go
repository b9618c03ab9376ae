package exec

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/stratus-cloud/stratus/internal/runtime"
)

// Usage implements runtime.Runtime from /proc (Linux): the process's user
// and system time and its resident set. Its children are not counted.
func (r *Runtime) Usage(_ context.Context, id string) (runtime.Usage, error) {
	c, err := r.get(id)
	if err != nil {
		return runtime.Usage{}, err
	}
	if c.Status().State != runtime.StateRunning || c.cmd.Process == nil {
		return runtime.Usage{}, nil
	}
	pid := strconv.Itoa(c.cmd.Process.Pid)
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return runtime.Usage{}, runtime.NotSupported("exec", "usage")
	}
	// fields after the command (which may hold spaces) end with ')'
	s := string(stat)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return runtime.Usage{}, fmt.Errorf("exec runtime: /proc/%s/stat: short", pid)
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	u := runtime.Usage{CPU: time.Duration(utime+stime) * (time.Second / 100)} // USER_HZ is 100 on Linux
	if statm, err := os.ReadFile("/proc/" + pid + "/statm"); err == nil {
		if sf := strings.Fields(string(statm)); len(sf) > 1 {
			pages, _ := strconv.ParseInt(sf[1], 10, 64)
			u.Memory = pages * int64(os.Getpagesize())
		}
	}
	return u, nil
}
