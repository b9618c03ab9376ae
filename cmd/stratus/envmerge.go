package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// kubeContextName is the context `env kubectl --merge` adds: "stratus"
// for the default data dir, "stratus-<dir name>" for another (kind names
// its contexts "kind-<cluster>" the same way).
func kubeContextName(dataDir string) string {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		abs = dataDir
	}
	if def, err := filepath.Abs(defaultDataDir()); err == nil && def == abs {
		return "stratus"
	}
	base := strings.Trim(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r - 'A' + 'a'
		}
		return '-'
	}, filepath.Base(abs)), "-")
	if base == "" {
		return "stratus"
	}
	return "stratus-" + base
}

// mergeKubeconfig adds stratus's cluster, user and context (all named
// name, credentials embedded) to the user's kubeconfig ($KUBECONFIG, else
// ~/.kube/config) and makes the context current, as `kind create cluster`
// does; what the file already holds is kept.
func mergeKubeconfig(w io.Writer, name, from string) error {
	src, err := clientcmd.LoadFromFile(from)
	if err != nil {
		return fmt.Errorf("read stratus's kubeconfig: %w", err)
	}
	if err := clientcmdapi.FlattenConfig(src); err != nil {
		return err
	}
	ctx := src.Contexts[src.CurrentContext]
	if ctx == nil || src.Clusters[ctx.Cluster] == nil || src.AuthInfos[ctx.AuthInfo] == nil {
		return fmt.Errorf("stratus's kubeconfig %s has no usable current context", from)
	}
	po := clientcmd.NewDefaultPathOptions()
	cfg, err := po.GetStartingConfig()
	if err != nil {
		return err
	}
	// LoadFromFile marks each entry with the file it came from, and
	// ModifyConfig writes an entry back to that file: cleared, the entries
	// go to the user's kubeconfig, not back into the data dir's.
	cluster, user, c := *src.Clusters[ctx.Cluster], *src.AuthInfos[ctx.AuthInfo], *ctx
	cluster.LocationOfOrigin, user.LocationOfOrigin, c.LocationOfOrigin = "", "", ""
	c.Cluster, c.AuthInfo = name, name
	cfg.Clusters[name], cfg.AuthInfos[name], cfg.Contexts[name] = &cluster, &user, &c
	cfg.CurrentContext = name
	if err := clientcmd.ModifyConfig(po, *cfg, false); err != nil {
		return err
	}
	fmt.Fprintf(w, "Set kubectl context to %q in %s. You can now use stratus with:\n\nkubectl cluster-info --context %s\n", name, po.GetDefaultFilename(), name)
	return nil
}

// unmergeKubeconfig removes what mergeKubeconfig added and, when it was
// the current context, leaves none current.
func unmergeKubeconfig(w io.Writer, name string) error {
	po := clientcmd.NewDefaultPathOptions()
	cfg, err := po.GetStartingConfig()
	if err != nil {
		return err
	}
	_, had := cfg.Contexts[name]
	delete(cfg.Clusters, name)
	delete(cfg.AuthInfos, name)
	delete(cfg.Contexts, name)
	if cfg.CurrentContext == name {
		cfg.CurrentContext = ""
	}
	if !had {
		fmt.Fprintf(w, "No context %q in %s; nothing to remove.\n", name, po.GetDefaultFilename())
		return nil
	}
	if err := clientcmd.ModifyConfig(po, *cfg, false); err != nil {
		return err
	}
	fmt.Fprintf(w, "Deleted context %q from %s.\n", name, po.GetDefaultFilename())
	return nil
}
