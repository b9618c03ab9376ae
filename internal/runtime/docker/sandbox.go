package docker

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"

	"github.com/stratus-cloud/stratus/internal/runtime"
)

// PauseImage is the sandbox image's reference; it is made from nothing by
// prepare (an image import of a one-file root file system).
const PauseImage = "stratus/pause:1"

// sandbox is a pod's namespace holder.
type sandbox struct {
	key   string
	ready chan struct{} // closed once id, ip and err are set
	id    string
	ip    string // address on the Docker network
	podIP string // the pod IP on the host, whose ports forward to ip
	err   error
	refs  int // containers of the pod, created or being created
}

// prepare makes sure the sandbox image exists, and on first use removes
// what an earlier process of the same instance left behind.
func (r *Runtime) prepare(ctx context.Context) error {
	r.prepMu.Lock()
	defer r.prepMu.Unlock()
	if r.pause != "" {
		return nil
	}
	if r.opts.Instance != "" {
		if err := r.removeInstance(ctx); err != nil {
			r.log.Warn("removing leftover containers failed", "err", err)
		}
	}
	if err := r.importPause(ctx); err != nil {
		return err
	}
	r.pause = PauseImage
	return nil
}

// importPause imports the sandbox image unless the engine has it.
func (r *Runtime) importPause(ctx context.Context) error {
	if _, err := r.cli.ImageInspect(ctx, PauseImage); err == nil {
		return nil
	} else if !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("docker runtime: engine: %w", err)
	}
	v, err := r.cli.ServerVersion(ctx)
	if err != nil {
		return fmt.Errorf("docker runtime: engine version: %w", err)
	}
	rootfs, err := pauseRootFS(v.Arch)
	if err != nil {
		return err
	}
	rc, err := r.cli.ImageImport(ctx, image.ImportSource{Source: bytes.NewReader(rootfs), SourceName: "-"}, PauseImage, image.ImportOptions{
		Changes: []string{`ENTRYPOINT ["/pause"]`, "LABEL " + LabelManaged + "=true"},
		Message: "stratus pod sandbox",
	})
	if err != nil {
		return fmt.Errorf("docker runtime: import sandbox image: %w", err)
	}
	defer rc.Close()
	if err := drainJSON(rc); err != nil {
		return fmt.Errorf("docker runtime: import sandbox image: %w", err)
	}
	r.log.Info("sandbox image imported", "image", PauseImage, "arch", v.Arch)
	return nil
}

// acquireSandbox returns the pod's sandbox, creating it for the pod's
// first container; the caller releases it if its container is not made.
func (r *Runtime) acquireSandbox(ctx context.Context, key string, spec runtime.ContainerSpec) (*sandbox, error) {
	r.mu.Lock()
	sb, ok := r.pods[key]
	if !ok {
		sb = &sandbox{key: key, podIP: spec.PodIP, ready: make(chan struct{})}
		r.pods[key] = sb
	}
	sb.refs++
	r.mu.Unlock()
	if !ok {
		sb.id, sb.ip, sb.err = r.createSandbox(ctx, spec)
		close(sb.ready)
	}
	select {
	case <-sb.ready:
	case <-ctx.Done():
		r.releaseSandbox(key)
		return nil, ctx.Err()
	}
	if sb.err != nil {
		err := sb.err
		r.releaseSandbox(key)
		return nil, err
	}
	return sb, nil
}

// createSandbox creates and starts the pod's sandbox container.
func (r *Runtime) createSandbox(ctx context.Context, spec runtime.ContainerSpec) (id, ip string, err error) {
	cfg := &container.Config{
		Image:    PauseImage,
		Hostname: hostname(spec.PodName),
		Labels:   r.labels(spec, "sandbox"),
	}
	// The pod's containers join the sandbox's network namespace and so
	// read its /etc/hosts: the host aliases go there (docker allows no
	// extra hosts on a container of network mode container:…).
	hosts := extraHosts(spec.HostAliases, r.sandboxAddr)
	for _, a := range hosts.unreachable {
		r.log.Info("host alias names a host loopback address no container of this runtime answers at; written as given",
			"pod", spec.PodNamespace+"/"+spec.PodName, "ip", a.IP, "hostnames", a.Hostnames)
	}
	hc := &container.HostConfig{
		ExtraHosts:    hosts.entries,
		NetworkMode:   container.NetworkMode(r.opts.Network),
		IpcMode:       container.IpcMode("shareable"),
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyDisabled},
		LogConfig:     container.LogConfig{Type: "none"},
	}
	name := containerName("stratus", "POD", spec)
	created, err := r.cli.ContainerCreate(ctx, cfg, hc, nil, nil, name)
	if cerrdefs.IsNotFound(err) {
		// Another runtime's Close removed the image between our check
		// and now: import it again, once.
		if ierr := r.importPause(ctx); ierr != nil {
			return "", "", ierr
		}
		created, err = r.cli.ContainerCreate(ctx, cfg, hc, nil, nil, name)
	}
	if err != nil {
		return "", "", fmt.Errorf("create: %w", err)
	}
	if err := r.cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		r.removeQuietly(created.ID)
		return "", "", fmt.Errorf("start: %w", err)
	}
	info, err := r.cli.ContainerInspect(ctx, created.ID)
	if err != nil {
		r.removeQuietly(created.ID)
		return "", "", fmt.Errorf("inspect: %w", err)
	}
	if ns := info.NetworkSettings; ns != nil {
		ip = ns.IPAddress
		for netName, ep := range ns.Networks {
			if ep != nil && ep.IPAddress != "" && (ip == "" || netName == r.opts.Network) {
				ip = ep.IPAddress
			}
		}
	}
	r.log.Debug("pod sandbox started", "pod", spec.PodNamespace+"/"+spec.PodName, "id", shortID(created.ID), "ip", ip)
	return created.ID, ip, nil
}

// aliasHosts is what extraHosts makes of a pod's host aliases.
type aliasHosts struct {
	entries     []string            // HostConfig.ExtraHosts: "name:ip"
	unreachable []runtime.HostAlias // loopback aliases no sandbox was found for
}

// extraHosts turns a pod's host aliases into the engine's extra hosts, in
// their order (the engine appends them to the sandbox's /etc/hosts). An alias at a loopback address, which
// inside a container is the container's own, is written at the address
// addr gives for the first of its IP and backends that has one (a pod
// this runtime runs); without one it is written as given, as the kubelet
// writes every alias.
func extraHosts(aliases []runtime.HostAlias, addr func(podIP string) string) aliasHosts {
	var out aliasHosts
	for _, a := range aliases {
		ip := a.IP
		if p := net.ParseIP(ip); p != nil && p.IsLoopback() {
			found := ""
			for _, cand := range append([]string{a.IP}, a.Backends...) {
				if found = addr(cand); found != "" {
					break
				}
			}
			if found != "" {
				ip = found
			} else {
				out.unreachable = append(out.unreachable, a)
			}
		}
		for _, h := range a.Hostnames {
			if h == "" {
				continue
			}
			out.entries = append(out.entries, h+":"+ip)
		}
	}
	return out
}

// sandboxAddr is the Docker network address of the started sandbox of
// the pod whose pod IP is podIP ("" when this runtime runs none).
func (r *Runtime) sandboxAddr(podIP string) string {
	if podIP == "" {
		return ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, sb := range r.pods {
		if sb.podIP != podIP {
			continue
		}
		select {
		case <-sb.ready:
			if sb.err == nil && sb.ip != "" {
				return sb.ip
			}
		default:
		}
	}
	return ""
}

// releaseSandbox drops one reference; the last one removes the sandbox.
func (r *Runtime) releaseSandbox(key string) {
	r.mu.Lock()
	sb, ok := r.pods[key]
	if !ok {
		r.mu.Unlock()
		return
	}
	sb.refs--
	last := sb.refs == 0
	if last {
		delete(r.pods, key)
	}
	r.mu.Unlock()
	if !last {
		return
	}
	<-sb.ready
	if sb.id != "" {
		r.removeQuietly(sb.id)
	}
}

// removeImageIfUnused removes ref unless a container uses it, and with it
// any untagged sandbox images that concurrent imports by several runtimes
// left (each import makes a new image; the tag moves to the last one).
func (r *Runtime) removeImageIfUnused(ctx context.Context, ref string) {
	list, err := r.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("ancestor", ref))})
	if err != nil || len(list) > 0 {
		return
	}
	ids := []string{ref}
	dangling, err := r.cli.ImageList(ctx, image.ListOptions{Filters: filters.NewArgs(filters.Arg("dangling", "true"), filters.Arg("label", LabelManaged+"=true"))})
	if err == nil {
		for _, im := range dangling {
			ids = append(ids, im.ID)
		}
	}
	for _, id := range ids {
		// Not forced: an image a container still uses stays.
		if _, err := r.cli.ImageRemove(ctx, id, image.RemoveOptions{PruneChildren: true}); err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
			r.log.Warn("removing sandbox image failed", "image", id, "err", err)
		}
	}
}

// drainJSON reads an engine progress stream to its end and returns the
// error it reports, if any.
func drainJSON(rc io.Reader) error {
	return decodeProgress(rc, func(string) {})
}
