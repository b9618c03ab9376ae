package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// helloSource is the floor the start-up target is measured against: a
// hello-world Go HTTP server.
const helloSource = `package main

import (
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	http.ListenAndServe(os.Args[1], nil)
}
`

func buildHello(b *testing.B) string {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(helloSource), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module hello\n\ngo 1.22\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(dir, "hello")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build hello: %v\n%s", err, out)
	}
	return bin
}

// timeToReady starts cmd and returns the time until GET url answers 200.
func timeToReady(b *testing.B, cmd *exec.Cmd, url string) (time.Duration, *os.Process) {
	client := &http.Client{Timeout: time.Second}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	deadline := t0.Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return time.Since(t0), cmd.Process
			}
		}
		time.Sleep(200 * time.Microsecond)
	}
	cmd.Process.Kill()
	b.Fatalf("%s not ready within 30s", url)
	return 0, nil
}

func rssMB(pid int) float64 { return procStatusMB(pid, "VmRSS:") }

// procStatusMB reads a kB field of /proc/PID/status, in MB.
func procStatusMB(pid int, field string) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(f), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkStartup measures `stratus up` (default bolt store) from exec to
// the first 200 on /readyz, beside a hello-world Go HTTP server's time to its
// first answer in the same run: "fresh" with a new data dir (certificates,
// the data center and the cluster's objects are created), "restart" with
// the data dir of an earlier run. Targets: ratio ≤ 3, idle RSS ≤ 60 MB.
// version-ms is `stratus version` from exec to exit: what the binary costs
// before it does any work (runtime start and package init).
func BenchmarkStartup(b *testing.B) {
	bin := stratusBinary(b)
	hello := buildHello(b)
	for _, mode := range []string{"fresh", "restart"} {
		b.Run(mode, func(b *testing.B) {
			var up, floor, idle time.Duration
			var rss float64
			n := 0
			for b.Loop() {
				addr := freeAddr(b)
				d, p := timeToReady(b, exec.Command(hello, addr), "http://"+addr+"/readyz")
				floor += d
				p.Kill()
				p.Wait()
				// The binary's own floor: exec, runtime start and the init
				// of every package linked in, doing no work.
				t0 := time.Now()
				if out, err := exec.Command(bin, "version").CombinedOutput(); err != nil {
					b.Fatalf("stratus version: %v\n%s", err, out)
				}
				idle += time.Since(t0)

				dir := b.TempDir()
				start := func() (time.Duration, *os.Process) {
					httpAddr := freeAddr(b)
					cmd := exec.Command(bin, "up", "--data-dir", dir, "--http-addr", httpAddr, "--kube-addr", freeAddr(b))
					cmd.Env = append(os.Environ(), "HOME="+dir)
					return timeToReady(b, cmd, "http://"+httpAddr+"/readyz")
				}
				if mode == "restart" {
					_, p := start()
					p.Signal(os.Interrupt)
					p.Wait()
				}
				d, p = start()
				up += d
				// Idle: start-up is over, its memory given back (--trim-memory
				// runs a second after ready) and the heartbeats have come round.
				time.Sleep(3 * time.Second)
				rss += rssMB(p.Pid)
				p.Signal(os.Interrupt)
				p.Wait()
				n++
			}
			b.ReportMetric(float64(up.Microseconds())/float64(n)/1000, "up-ms")
			b.ReportMetric(float64(floor.Microseconds())/float64(n)/1000, "hello-ms")
			b.ReportMetric(float64(up)/float64(floor), "ratio")
			b.ReportMetric(float64(idle.Microseconds())/float64(n)/1000, "version-ms")
			b.ReportMetric(float64(idle)/float64(floor), "version-ratio")
			b.ReportMetric(rss/float64(n), "idle-RSS-MB")
		})
	}
}
