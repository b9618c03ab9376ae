package agent

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/net/websocket"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/apimachinery/pkg/util/httpstream/spdy"
	"k8s.io/apimachinery/pkg/util/httpstream/wsstream"

	"github.com/stratus-cloud/stratus/internal/runtime"
)

// Port forwarding as the kubelet serves it: SPDY subprotocol
// portforward.k8s.io, one error and one data stream per connection the
// client accepts (paired by requestID), each data stream joined to a TCP
// connection to the pod's port. kubectl 1.31 on tunnels that same SPDY
// connection through a WebSocket (subprotocol
// SPDY/3.1+portforward.k8s.io), which kube-apiserver unwraps; here the
// agent unwraps it, so the API server passes the upgrade through as is.

const (
	portForwardProtocol       = "portforward.k8s.io"
	portForwardTunnelProtocol = "SPDY/3.1+portforward.k8s.io"
)

func (e *engine) servePortForward(w http.ResponseWriter, r *http.Request) {
	ns, podName := r.PathValue("ns"), r.PathValue("pod")
	e.mu.Lock()
	ps := e.pods[ns+"/"+podName]
	e.mu.Unlock()
	if ps == nil {
		http.Error(w, fmt.Sprintf("pod %s/%s is not running on this node", ns, podName), http.StatusNotFound)
		return
	}
	ps.mu.Lock()
	ip := ps.ip
	var ids []string
	for _, c := range ps.ctrs {
		if c.cs.id != "" {
			ids = append(ids, c.cs.id)
		}
	}
	ps.mu.Unlock()
	fw := &forwarder{podIP: ip, alsoLoopback: e.rtName == "exec"}
	if pd, ok := e.rt.(runtime.PortDialer); ok {
		fw.fallback = func(port int) (net.Conn, error) {
			var errs []error
			for _, id := range ids {
				c, err := pd.DialPort(id, port)
				if err == nil {
					return c, nil
				}
				errs = append(errs, err)
			}
			return nil, errors.Join(errs...)
		}
	}
	if wsstream.IsWebSocketRequestWithTunnelingProtocol(r) {
		websocket.Server{
			Handshake: func(cfg *websocket.Config, _ *http.Request) error {
				for _, p := range cfg.Protocol {
					if p == portForwardTunnelProtocol {
						cfg.Protocol = []string{p}
						return nil
					}
				}
				return errors.New("unsupported WebSocket subprotocol")
			},
			Handler: func(ws *websocket.Conn) {
				ws.PayloadType = websocket.BinaryFrame
				fw.serve(func(h httpstream.NewStreamHandler) (httpstream.Connection, error) {
					return spdy.NewServerConnection(ws, h)
				})
			},
		}.ServeHTTP(w, r)
		return
	}
	if _, err := httpstream.Handshake(r, w, []string{portForwardProtocol}); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fw.serve(func(h httpstream.NewStreamHandler) (httpstream.Connection, error) {
		c := spdy.NewResponseUpgrader().UpgradeResponse(w, r, h)
		if c == nil {
			return nil, errors.New("SPDY upgrade failed")
		}
		return c, nil
	})
}

// forwarder pairs a connection's streams and joins each pair to the pod.
type forwarder struct {
	podIP        string
	alsoLoopback bool // exec runtime: the pod's localhost is the host's
	// fallback answers a port nothing listens on (runtime.PortDialer).
	fallback func(port int) (net.Conn, error)

	mu    sync.Mutex
	pairs map[string]*streamPair
}

type streamPair struct {
	data, err httpstream.Stream
}

func (f *forwarder) serve(open func(httpstream.NewStreamHandler) (httpstream.Connection, error)) {
	f.pairs = map[string]*streamPair{}
	ready := make(chan *streamPair, 4)
	conn, err := open(func(s httpstream.Stream, _ <-chan struct{}) error {
		if t := s.Headers().Get(corev1.StreamType); t != corev1.StreamTypeData && t != corev1.StreamTypeError {
			return fmt.Errorf("invalid stream type %q", t)
		}
		if s.Headers().Get(corev1.PortHeader) == "" {
			return errors.New("missing port header")
		}
		id := s.Headers().Get(corev1.PortForwardRequestIDHeader)
		f.mu.Lock()
		p := f.pairs[id]
		if p == nil {
			p = &streamPair{}
			f.pairs[id] = p
		}
		if s.Headers().Get(corev1.StreamType) == corev1.StreamTypeData {
			p.data = s
		} else {
			p.err = s
		}
		complete := p.data != nil && p.err != nil
		if complete {
			delete(f.pairs, id)
		}
		f.mu.Unlock()
		if complete {
			ready <- p
		}
		return nil
	})
	if err != nil {
		return
	}
	defer func() { _ = conn.Close() }()
	conn.SetIdleTimeout(streamIdleTimeout)
	for {
		select {
		case p := <-ready:
			go f.forward(conn, p)
		case <-conn.CloseChan():
			return
		}
	}
}

func (f *forwarder) forward(conn httpstream.Connection, p *streamPair) {
	defer conn.RemoveStreams(p.data, p.err)
	defer p.data.Close()
	defer p.err.Close()
	portStr := p.data.Headers().Get(corev1.PortHeader)
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 {
		fmt.Fprintf(p.err, "invalid port %q", portStr)
		return
	}
	c, err := f.dial(int(port))
	if err != nil {
		fmt.Fprintf(p.err, "error forwarding port %d to pod %s: %v", port, f.podIP, err)
		return
	}
	defer c.Close()
	done := make(chan struct{}, 2)
	go func() {
		_, _ = io.Copy(c, p.data)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}()
	go func() {
		_, _ = io.Copy(p.data, c)
		done <- struct{}{}
	}()
	<-done
}

func (f *forwarder) dial(port int) (net.Conn, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	var errs []error
	addrs := []string{}
	if f.podIP != "" {
		addrs = append(addrs, net.JoinHostPort(f.podIP, strconv.Itoa(port)))
	}
	if f.alsoLoopback || f.podIP == "" {
		addrs = append(addrs, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	}
	for _, a := range addrs {
		c, err := d.Dial("tcp", a)
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
	}
	if f.fallback != nil {
		if c, err := f.fallback(port); err == nil {
			return c, nil
		}
	}
	return nil, errors.Join(errs...)
}
