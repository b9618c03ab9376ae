package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/apimachinery/pkg/util/httpstream/spdy"
	"k8s.io/apimachinery/pkg/util/httpstream/wsstream"
	remotecommandconsts "k8s.io/apimachinery/pkg/util/remotecommand"

	"github.com/stratus-cloud/stratus/internal/runtime"
)

// The kubelet's streaming API, which the API server proxies pods/exec,
// pods/attach and pods/portforward to (the upgraded connection passes
// through it unchanged): exec and attach speak the remote command
// protocols over SPDY (v2 to v5.channel.k8s.io) or WebSocket
// (channel.k8s.io, base64.channel.k8s.io, v4 and v5.channel.k8s.io), as
// kubectl negotiates them; portforward.go does port forwarding.

const (
	streamIdleTimeout     = 4 * time.Hour
	streamCreationTimeout = remotecommandconsts.DefaultStreamCreationTimeout
)

// spdyRemoteCommandProtocols are the SPDY subprotocols served, newest
// first (v5 over SPDY is v4: the CLOSE signal is WebSocket's).
var spdyRemoteCommandProtocols = []string{
	remotecommandconsts.StreamProtocolV5Name, remotecommandconsts.StreamProtocolV4Name,
	remotecommandconsts.StreamProtocolV3Name, remotecommandconsts.StreamProtocolV2Name,
}

func (e *engine) streamRoutes(mux *http.ServeMux) {
	for _, m := range []string{"GET", "POST"} {
		mux.HandleFunc(m+" /exec/{ns}/{pod}/{container}", func(w http.ResponseWriter, r *http.Request) { e.serveRemoteCommand(w, r, true) })
		mux.HandleFunc(m+" /attach/{ns}/{pod}/{container}", func(w http.ResponseWriter, r *http.Request) { e.serveRemoteCommand(w, r, false) })
		mux.HandleFunc(m+" /portForward/{ns}/{pod}", e.servePortForward)
	}
}

// streamOptions are the kubelet's query parameters (corev1.Exec*Param).
type streamOptions struct {
	stdin, stdout, stderr, tty bool
	command                    []string
}

func parseStreamOptions(r *http.Request, exec bool) (streamOptions, error) {
	q := r.URL.Query()
	flag := func(name string) bool {
		b, _ := strconv.ParseBool(q.Get(name))
		return b
	}
	o := streamOptions{stdin: flag(corev1.ExecStdinParam), stdout: flag(corev1.ExecStdoutParam),
		stderr: flag(corev1.ExecStderrParam), tty: flag(corev1.ExecTTYParam), command: q[corev1.ExecCommandParam]}
	if o.tty && o.stderr {
		o.stderr = false // with a terminal, stderr goes to stdout
	}
	if !o.stdin && !o.stdout && !o.stderr {
		return o, errors.New("you must specify at least 1 of stdin, stdout, stderr")
	}
	if exec && len(o.command) == 0 {
		return o, errors.New("you must specify a command")
	}
	return o, nil
}

// containerID finds a running container of a pod on this agent.
func (e *engine) containerID(ns, podName, ctr string) (string, int, string) {
	e.mu.Lock()
	ps := e.pods[ns+"/"+podName]
	e.mu.Unlock()
	if ps == nil {
		return "", http.StatusNotFound, fmt.Sprintf("pod %s/%s is not running on this node", ns, podName)
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	cs := ps.ctrs.get(ctr)
	if cs == nil || cs.id == "" {
		return "", http.StatusBadRequest, fmt.Sprintf("container %s is not valid for pod %s", ctr, podName)
	}
	return cs.id, 0, ""
}

// streams is one remote command session's streams, whichever protocol.
type streams struct {
	stdin          io.Reader
	stdout, stderr io.WriteCloser
	resize         <-chan runtime.TermSize
	// writeStatus reports the outcome on the error stream, in the
	// protocol's form.
	writeStatus func(*metav1.Status) error
	// closeOutput half-closes stdout and stderr once the command is done,
	// so their last data is sent before the status and the connection's
	// end (SPDY; nil for WebSocket).
	closeOutput func()
	close       func()
}

func (e *engine) serveRemoteCommand(w http.ResponseWriter, r *http.Request, exec bool) {
	opts, err := parseStreamOptions(r, exec)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ns, podName, ctr := r.PathValue("ns"), r.PathValue("pod"), r.PathValue("container")
	id, code, msg := e.containerID(ns, podName, ctr)
	if id == "" {
		http.Error(w, msg, code)
		return
	}
	var st *streams
	if wsstream.IsWebSocketRequest(r) {
		st, err = openWebSocketStreams(w, r, opts)
	} else {
		st, err = openSPDYStreams(w, r, opts)
	}
	if err != nil {
		e.log.Debug("remote command streams", "pod", ns+"/"+podName, "err", err)
		return
	}
	defer st.close()
	rs := runtime.Streams{Stdin: st.stdin, TTY: opts.tty, Resize: st.resize}
	if st.stdout != nil {
		rs.Stdout = st.stdout
	}
	if st.stderr != nil {
		rs.Stderr = st.stderr
	}
	ctx := r.Context()
	if exec {
		exit, err := e.rt.Exec(ctx, id, opts.command, rs)
		if st.closeOutput != nil {
			st.closeOutput()
		}
		switch {
		case err != nil:
			_ = st.writeStatus(&metav1.Status{Status: metav1.StatusFailure, Reason: metav1.StatusReasonInternalError,
				Message: fmt.Sprintf("error executing command in container: %v", err)})
		case exit != 0:
			_ = st.writeStatus(&metav1.Status{Status: metav1.StatusFailure, Reason: remotecommandconsts.NonZeroExitCodeReason,
				Message: fmt.Sprintf("command terminated with non-zero exit code: error executing command [%s], exit code %d", strings.Join(opts.command, " "), exit),
				Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{{Type: remotecommandconsts.ExitCodeCauseType, Message: strconv.Itoa(exit)}}}})
		default:
			_ = st.writeStatus(&metav1.Status{Status: metav1.StatusSuccess})
		}
		return
	}
	err = e.rt.Attach(ctx, id, rs)
	if st.closeOutput != nil {
		st.closeOutput()
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		_ = st.writeStatus(&metav1.Status{Status: metav1.StatusFailure, Reason: metav1.StatusReasonInternalError,
			Message: fmt.Sprintf("error attaching to container: %v", err)})
		return
	}
	_ = st.writeStatus(&metav1.Status{Status: metav1.StatusSuccess})
}

// statusWriter writes a Status on the error stream: JSON from v4 on, the
// message as text before.
func statusWriter(w io.Writer, jsonStatus bool) func(*metav1.Status) error {
	return func(s *metav1.Status) error {
		if s.Status == metav1.StatusSuccess && !jsonStatus {
			return nil
		}
		if !jsonStatus {
			_, err := w.Write([]byte(s.Message))
			return err
		}
		s.Kind, s.APIVersion = "Status", "v1"
		b, err := json.Marshal(s)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
}

// decodeResize turns a resize stream's JSON TerminalSize objects into
// sizes; the channel closes with the stream.
func decodeResize(r io.Reader) <-chan runtime.TermSize {
	ch := make(chan runtime.TermSize, 4)
	go func() {
		defer close(ch)
		dec := json.NewDecoder(r)
		for {
			var sz struct{ Width, Height uint16 }
			if err := dec.Decode(&sz); err != nil {
				return
			}
			select {
			case ch <- runtime.TermSize{Width: sz.Width, Height: sz.Height}:
			default: // a slow runtime loses intermediate sizes, never blocks the client
			}
		}
	}()
	return ch
}

// openSPDYStreams upgrades to SPDY and waits for the client's streams, as
// the kubelet does.
func openSPDYStreams(w http.ResponseWriter, r *http.Request, opts streamOptions) (*streams, error) {
	protocol, err := httpstream.Handshake(r, w, spdyRemoteCommandProtocols)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, err
	}
	streamCh := make(chan httpstream.Stream, 8)
	conn := spdy.NewResponseUpgrader().UpgradeResponse(w, r, func(s httpstream.Stream, _ <-chan struct{}) error {
		streamCh <- s
		return nil
	})
	if conn == nil {
		return nil, errors.New("SPDY upgrade failed")
	}
	conn.SetIdleTimeout(streamIdleTimeout)
	want := 1 // the error stream
	for _, b := range []bool{opts.stdin, opts.stdout, opts.stderr, opts.tty && protocol != remotecommandconsts.StreamProtocolV2Name} {
		if b {
			want++
		}
	}
	st := &streams{}
	st.close = func() {
		// Let the client hang up first, reading what it still sends (the
		// rest of stdin): closing with unread data makes TCP reset the
		// connection, and output still in flight would be lost.
		if st.stdin != nil {
			go func() { _, _ = io.Copy(io.Discard, st.stdin) }()
		}
		select {
		case <-conn.CloseChan():
		case <-time.After(2 * time.Second):
		}
		_ = conn.Close()
	}
	var errStream httpstream.Stream
	timer := time.NewTimer(streamCreationTimeout)
	defer timer.Stop()
	for got := 0; got < want; {
		select {
		case s := <-streamCh:
			got++
			switch s.Headers().Get(corev1.StreamType) {
			case corev1.StreamTypeError:
				errStream = s
			case corev1.StreamTypeStdin:
				st.stdin = s
			case corev1.StreamTypeStdout:
				st.stdout = s
			case corev1.StreamTypeStderr:
				st.stderr = s
			case corev1.StreamTypeResize:
				st.resize = decodeResize(s)
			default:
				got--
				_ = s.Reset()
			}
		case <-timer.C:
			_ = conn.Close()
			return nil, errors.New("timed out waiting for client to create streams")
		case <-conn.CloseChan():
			return nil, errors.New("connection closed before the streams were created")
		}
	}
	if errStream == nil {
		_ = conn.Close()
		return nil, errors.New("no error stream")
	}
	v4 := protocol == remotecommandconsts.StreamProtocolV4Name || protocol == remotecommandconsts.StreamProtocolV5Name
	write := statusWriter(errStream, v4)
	st.writeStatus = func(status *metav1.Status) error {
		err := write(status)
		_ = errStream.Close() // the client reads the status to its end
		return err
	}
	st.closeOutput = func() {
		for _, s := range []io.WriteCloser{st.stdout, st.stderr} {
			if s != nil {
				_ = s.Close()
			}
		}
	}
	return st, nil
}

// WebSocket channel numbers of the remote command protocols.
const (
	wsStdin = iota
	wsStdout
	wsStderr
	wsError
	wsResize
)

// openWebSocketStreams accepts the WebSocket remote command protocols
// kubectl (1.30 on, and 1.29 with KUBECTL_REMOTE_COMMAND_WEBSOCKETS)
// negotiates; v5 adds the CLOSE signal for stdin.
func openWebSocketStreams(w http.ResponseWriter, r *http.Request, opts streamOptions) (*streams, error) {
	channels := make([]wsstream.ChannelType, 5)
	channels[wsStdin] = wsstream.ReadChannel
	if !opts.stdin {
		channels[wsStdin] = wsstream.IgnoreChannel
	}
	channels[wsStdout] = wsstream.WriteChannel
	channels[wsStderr] = wsstream.WriteChannel
	channels[wsError] = wsstream.WriteChannel
	channels[wsResize] = wsstream.ReadChannel
	conn := wsstream.NewConn(map[string]wsstream.ChannelProtocolConfig{
		"":                                       {Binary: true, Channels: channels},
		"channel.k8s.io":                         {Binary: true, Channels: channels},
		"base64.channel.k8s.io":                  {Binary: false, Channels: channels},
		remotecommandconsts.StreamProtocolV4Name: {Binary: true, Channels: channels},
		"v4.base64.channel.k8s.io":               {Binary: false, Channels: channels},
		remotecommandconsts.StreamProtocolV5Name: {Binary: true, Channels: channels},
	})
	conn.SetIdleTimeout(streamIdleTimeout)
	protocol, chans, err := conn.Open(w, r)
	if err != nil {
		return nil, err
	}
	// tell the client the connection is up: an empty message on the
	// lowest channel it writes to
	switch {
	case opts.stdout:
		_, _ = chans[wsStdout].Write(nil)
	case opts.stderr:
		_, _ = chans[wsStderr].Write(nil)
	default:
		_, _ = chans[wsError].Write(nil)
	}
	st := &streams{close: func() { _ = conn.Close() }}
	if opts.stdin {
		st.stdin = chans[wsStdin]
	}
	if opts.stdout {
		st.stdout = chans[wsStdout]
	}
	if opts.stderr {
		st.stderr = chans[wsStderr]
	}
	if opts.tty {
		st.resize = decodeResize(chans[wsResize])
	}
	v4 := protocol == remotecommandconsts.StreamProtocolV4Name || protocol == "v4.base64.channel.k8s.io" || protocol == remotecommandconsts.StreamProtocolV5Name
	st.writeStatus = statusWriter(chans[wsError], v4)
	return st, nil
}
