// Package dockertest builds the images that tests run on a Docker engine
// with no registry to pull from: a small static Go program, compiled here
// with CGO_ENABLED=0 for the engine's architecture and put in a FROM
// scratch image through the engine's build API. Its image is labelled
// io.stratus.test=true; RemoveImage takes it away again.
package dockertest

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
)

// LabelTest marks images built by this package.
const LabelTest = "io.stratus.test"

// Testbox is the source of the test program, /testbox in the image (its
// entrypoint). Its first argument picks what it does:
//
//	sleep            print "sleeping", run until SIGTERM/SIGINT, print "got <signal>", exit 0
//	ignore-term      print "ignoring SIGTERM", run until killed
//	exit CODE TEXT…  print TEXT, exit with CODE
//	lines N [stay]   print "line 1" … "line N", then exit 0 (or run until SIGTERM with stay)
//	tick MS          print "tick <i>" every MS milliseconds until SIGTERM
//	env              print the environment, one variable a line, sorted
//	args ARG…        print each argument on its own line
//	hostname         print the host name
//	serve PORT       answer HTTP on :PORT with "hello from <hostname> <$POD_NAME>" until SIGTERM
//	get URL [SECS]   GET URL (retrying for SECS, default 10), print the body, exit 0; exit 1 if it never answers
//	relay PORT URL   answer HTTP on :PORT with "relayed by <hostname>: " and the body of a GET of URL (502 if it fails)
//	cat FILE         print FILE
const Testbox = `package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func waitTerm() os.Signal {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
	return <-c
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: testbox MODE ARGS…")
		os.Exit(2)
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "sleep":
		fmt.Println("sleeping")
		fmt.Println("got", waitTerm())
	case "ignore-term":
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ignoring SIGTERM")
		for {
			time.Sleep(time.Hour)
		}
	case "exit":
		code, _ := strconv.Atoi(args[0])
		fmt.Println(strings.Join(args[1:], " "))
		os.Exit(code)
	case "exec-cat": // exec-cat CODE WORDS…: print the words, copy stdin, exit CODE
		code, _ := strconv.Atoi(args[0])
		fmt.Println(strings.Join(args[1:], " "))
		_, _ = io.Copy(os.Stdout, os.Stdin)
		os.Exit(code)
	case "lines":
		n, _ := strconv.Atoi(args[0])
		for i := 1; i <= n; i++ {
			fmt.Println("line", i)
		}
		if len(args) > 1 && args[1] == "stay" {
			waitTerm()
		}
	case "tick":
		ms, _ := strconv.Atoi(args[0])
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
		t := time.NewTicker(time.Duration(ms) * time.Millisecond)
		for i := 1; ; i++ {
			select {
			case <-t.C:
				fmt.Println("tick", i)
			case <-c:
				return
			}
		}
	case "env":
		env := os.Environ()
		sort.Strings(env)
		for _, e := range env {
			fmt.Println(e)
		}
	case "args":
		for _, a := range args {
			fmt.Println(a)
		}
	case "hostname":
		h, _ := os.Hostname()
		fmt.Println(h)
	case "serve":
		h, _ := os.Hostname()
		http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "hello from %s %s\n", h, os.Getenv("POD_NAME"))
		})
		go func() {
			if err := http.ListenAndServe(":"+args[0], nil); err != nil {
				fmt.Println(err)
				os.Exit(1)
			}
		}()
		fmt.Println("serving on", args[0])
		waitTerm()
	case "relay":
		h, _ := os.Hostname()
		cl := &http.Client{Timeout: 5 * time.Second}
		http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			resp, err := cl.Get(args[1])
			if err != nil {
				http.Error(w, "relay: "+err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			fmt.Fprintf(w, "relayed by %s: %s", h, b)
		})
		go func() {
			if err := http.ListenAndServe(":"+args[0], nil); err != nil {
				fmt.Println(err)
				os.Exit(1)
			}
		}()
		fmt.Println("serving on", args[0])
		waitTerm()
	case "cat":
		b, err := os.ReadFile(args[0])
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		os.Stdout.Write(b)
	case "get":
		wait := 10 * time.Second
		if len(args) > 1 {
			s, _ := strconv.Atoi(args[1])
			wait = time.Duration(s) * time.Second
		}
		deadline := time.Now().Add(wait)
		for {
			resp, err := http.Get(args[0])
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				os.Stdout.Write(b)
				return
			}
			if time.Now().After(deadline) {
				fmt.Println("get:", err)
				os.Exit(1)
			}
			time.Sleep(50 * time.Millisecond)
		}
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", os.Args[1])
		os.Exit(2)
	}
}
`

// BuildTestbox builds the Testbox program and an image tagged tag with it
// as /testbox and its entrypoint.
func BuildTestbox(ctx context.Context, cli *client.Client, tag string) error {
	v, err := cli.ServerVersion(ctx)
	if err != nil {
		return err
	}
	bin, err := BuildGo(ctx, map[string]string{"main.go": Testbox}, v.Arch)
	if err != nil {
		return err
	}
	return BuildImage(ctx, cli, tag, "FROM scratch\nCOPY testbox /testbox\nENTRYPOINT [\"/testbox\"]\n", map[string][]byte{"testbox": bin})
}

// BuildGo compiles a one-package Go program (file name → source, no
// dependencies) statically for linux/arch and returns the executable.
func BuildGo(ctx context.Context, files map[string]string, arch string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "stratus-dockertest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	files["go.mod"] = "module testprog\n\ngo 1.22\n"
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			return nil, err
		}
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(goruntime.GOROOT(), "bin", "go")
	}
	out := filepath.Join(dir, "prog")
	cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch, "GOWORK=off", "GOFLAGS=", "GOTOOLCHAIN=local")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %v\n%s", err, msg)
	}
	return os.ReadFile(out)
}

// BuildImage builds an image tagged tag from dockerfile and the files of
// its context through the engine's (classic) build API, labelled
// io.stratus.test=true.
func BuildImage(ctx context.Context, cli *client.Client, tag, dockerfile string, files map[string][]byte) error {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	add := func(name string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(data)), ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := add("Dockerfile", 0o644, []byte(dockerfile)); err != nil {
		return err
	}
	for name, data := range files {
		if err := add(name, 0o755, data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	resp, err := cli.ImageBuild(ctx, &b, build.ImageBuildOptions{
		Tags: []string{tag}, Remove: true, ForceRemove: true,
		Labels:  map[string]string{LabelTest: "true"},
		Version: build.BuilderV1,
	})
	if err != nil {
		return fmt.Errorf("build %s: %w", tag, err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var m struct {
			Error       string `json:"error"`
			ErrorDetail *struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return fmt.Errorf("build %s: %w", tag, err)
		}
		if m.Error != "" {
			return fmt.Errorf("build %s: %s", tag, m.Error)
		}
	}
	if _, err := cli.ImageInspect(ctx, tag); err != nil {
		return fmt.Errorf("build %s: image not there after the build: %w", tag, err)
	}
	return nil
}

// RemoveImage removes an image (forcibly: its containers must be gone
// already) and the layers only it used. A missing image is not an error.
func RemoveImage(ctx context.Context, cli *client.Client, tag string) error {
	_, err := cli.ImageRemove(ctx, tag, image.RemoveOptions{Force: true, PruneChildren: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return err
	}
	return nil
}
