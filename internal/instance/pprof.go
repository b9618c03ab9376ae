package instance

import (
	"fmt"
	"net/http"
	"runtime"
	"runtime/pprof"
	"strconv"
	"time"
)

// The admin API serves the Go runtime's profiles under debug/pprof/, in the
// format `go tool pprof` reads, so a benchmark (test/benchpath) or an
// operator can see where a running server's CPU and memory go:
//
//	GET /stratus/v1/debug/pprof/profile?seconds=N   CPU, for N seconds (default 30)
//	GET /stratus/v1/debug/pprof/{heap[?gc=1],allocs,goroutine,mutex,block,threadcreate}[?debug=N]
//
// They sit behind the admin token like the rest of /stratus/v1/ (a profile
// shows what the process holds). They are written with runtime/pprof rather
// than by importing net/http/pprof, whose init registers unauthenticated
// handlers on http.DefaultServeMux.
func pprofRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+adminPrefix+"debug/pprof/profile", serveCPUProfile)
	mux.HandleFunc("GET "+adminPrefix+"debug/pprof/{name}", func(w http.ResponseWriter, r *http.Request) {
		p := pprof.Lookup(r.PathValue("name"))
		if p == nil {
			http.Error(w, "unknown profile "+strconv.Quote(r.PathValue("name")), http.StatusNotFound)
			return
		}
		if gc, _ := strconv.Atoi(r.FormValue("gc")); gc > 0 && p.Name() == "heap" {
			runtime.GC() // as net/http/pprof: the heap profile of live objects only
		}
		// debug=N asks for text, as net/http/pprof serves it (the heap's
		// debug=1 ends with the runtime's MemStats, which the soak reads).
		debug, _ := strconv.Atoi(r.FormValue("debug"))
		if debug > 0 {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		} else {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Disposition", `attachment; filename="`+p.Name()+`"`)
		}
		_ = p.WriteTo(w, debug)
	})
}

// maxProfileSeconds bounds one CPU profile request.
const maxProfileSeconds = 600

func serveCPUProfile(w http.ResponseWriter, r *http.Request) {
	sec := 30
	if s := r.FormValue("seconds"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 || n > maxProfileSeconds {
			http.Error(w, fmt.Sprintf("seconds must be 1-%d", maxProfileSeconds), http.StatusBadRequest)
			return
		}
		sec = n
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="profile"`)
	if err := pprof.StartCPUProfile(w); err != nil {
		// Another profile is running: the runtime allows one at a time.
		w.Header().Del("Content-Disposition")
		http.Error(w, "could not start the CPU profile: "+err.Error(), http.StatusConflict)
		return
	}
	t := time.NewTimer(time.Duration(sec) * time.Second)
	select {
	case <-t.C:
	case <-r.Context().Done():
		t.Stop()
	}
	pprof.StopCPUProfile()
}
