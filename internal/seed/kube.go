package seed

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// fieldManager owns the fields a seed file sets.
const fieldManager = "stratus-seed"

// kubeApplier server-side applies manifests.
type kubeApplier struct {
	dyn    dynamic.Interface
	mapper meta.RESTMapper
}

func newKubeApplier(cfg *rest.Config) (*kubeApplier, error) {
	if cfg == nil {
		return &kubeApplier{}, nil
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &kubeApplier{dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))}, nil
}

// order is the manifests in the order they are applied: namespaces first.
func order(f *File) []*Doc {
	var ns, rest []*Doc
	for _, d := range f.Docs {
		if d.Object == nil {
			continue
		}
		if d.Object.GroupVersionKind() == (schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}) {
			ns = append(ns, d)
		} else {
			rest = append(rest, d)
		}
	}
	return append(ns, rest...)
}

// resource finds where a manifest goes.
func (k *kubeApplier) resource(f *File, d *Doc) (dynamic.ResourceInterface, error) {
	gvk := d.Object.GroupVersionKind()
	m, err := k.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, f.errorf(d, "kind", "the Kubernetes API serves no %s in %s", gvk.Kind, gvk.GroupVersion())
	}
	if m.Scope.Name() != meta.RESTScopeNameNamespace {
		if d.Object.GetNamespace() != "" {
			return nil, f.errorf(d, "metadata.namespace", "%s is not namespaced", gvk.Kind)
		}
		return k.dyn.Resource(m.Resource), nil
	}
	ns := d.Object.GetNamespace()
	if ns == "" {
		ns = metav1.NamespaceDefault
	}
	return k.dyn.Resource(m.Resource).Namespace(ns), nil
}

// validate dry-runs every manifest. A manifest in a namespace the file
// creates cannot be dry-run before it exists; its kind is still checked.
func (k *kubeApplier) validate(ctx context.Context, f *File) []error {
	var errs []error
	newNS := map[string]bool{}
	for _, d := range order(f) {
		if k.dyn == nil {
			errs = append(errs, f.errorf(d, "", "no Kubernetes API to apply it to"))
			continue
		}
		if d.Object.GetKind() == "Namespace" && d.Object.GetAPIVersion() == "v1" {
			newNS[d.Object.GetName()] = true
		}
		ri, err := k.resource(f, d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		_, err = ri.Apply(ctx, d.Object.GetName(), d.Object, metav1.ApplyOptions{FieldManager: fieldManager, Force: true, DryRun: []string{metav1.DryRunAll}})
		if err != nil && apierrors.IsNotFound(err) && newNS[d.Object.GetNamespace()] {
			continue
		}
		if err != nil {
			errs = append(errs, f.errorf(d, statusField(err), "%v", err))
		}
	}
	return errs
}

// statusField is the first field a Kubernetes error's causes name.
func statusField(err error) string {
	var se apierrors.APIStatus
	if errors.As(err, &se) && se.Status().Details != nil {
		for _, c := range se.Status().Details.Causes {
			if c.Field != "" {
				return c.Field
			}
		}
	}
	return ""
}

func (k *kubeApplier) apply(ctx context.Context, f *File) ([]string, error) {
	var lines []string
	for _, d := range order(f) {
		ri, err := k.resource(f, d)
		if err != nil {
			return lines, err
		}
		before := ""
		if cur, err := ri.Get(ctx, d.Object.GetName(), metav1.GetOptions{}); err == nil {
			before = cur.GetResourceVersion()
		}
		out, err := ri.Apply(ctx, d.Object.GetName(), d.Object, metav1.ApplyOptions{FieldManager: fieldManager, Force: true})
		if err != nil {
			return lines, f.errorf(d, statusField(err), "%v", err)
		}
		what := "created"
		switch {
		case before == out.GetResourceVersion():
			what = "unchanged"
		case before != "":
			what = "configured"
		}
		name := d.Object.GetName()
		if ns := out.GetNamespace(); ns != "" {
			name = ns + "/" + name
		}
		lines = append(lines, fmt.Sprintf("%s %s %s", d.Kind, name, what))
	}
	return lines, nil
}
