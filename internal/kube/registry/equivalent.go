package registry

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Equivalents is the registry's runtime.EquivalentResourceMapper, which
// admission's matchPolicy Equivalent asks: the served versions of one
// group and resource are the same objects (a CRD's versions, converted as
// the CRD says), and a kind is known for the main resource and its status
// and scale subresources. It follows the served CRDs.
func (g *Registry) Equivalents() runtime.EquivalentResourceMapper { return equivalents{g} }

type equivalents struct{ g *Registry }

func (e equivalents) EquivalentResourcesFor(resource schema.GroupVersionResource, subresource string) []schema.GroupVersionResource {
	return e.g.equivalentRegistry().EquivalentResourcesFor(resource, subresource)
}

func (e equivalents) KindFor(resource schema.GroupVersionResource, subresource string) schema.GroupVersionKind {
	return e.g.equivalentRegistry().KindFor(resource, subresource)
}

// equivalentRegistry is apimachinery's registry for the resources served
// now: built with the set of custom resources (SetCustom), or for the
// built-ins alone.
func (g *Registry) equivalentRegistry() runtime.EquivalentResourceMapper {
	if cs := g.custom.Load(); cs != nil && cs.equivalents != nil {
		return cs.equivalents
	}
	g.builtinOnce.Do(func() { g.builtinEquivalents = newEquivalents(g.Resources) })
	return g.builtinEquivalents
}

var scaleKind = schema.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}

func newEquivalents(rs []*Resource) runtime.EquivalentResourceRegistry {
	// As kube-apiserver's, resources kept in the same storage are the same
	// objects, across groups too (core/v1 and events.k8s.io/v1 Events).
	stored := map[schema.GroupResource]string{}
	for _, r := range rs {
		stored[r.GroupResource()] = r.storageResource().GroupResource().String()
	}
	eq := runtime.NewEquivalentResourceRegistryWithIdentity(func(gr schema.GroupResource) string {
		if s, ok := stored[gr]; ok {
			return s
		}
		return gr.String()
	})
	for _, r := range rs {
		eq.RegisterKindFor(r.GVR(), "", r.GVK())
		for _, sub := range r.Subresources {
			switch sub {
			case "status":
				eq.RegisterKindFor(r.GVR(), sub, r.GVK())
			case "scale":
				eq.RegisterKindFor(r.GVR(), sub, scaleKind)
			}
		}
	}
	return eq
}

// CustomConvertor converts custom resources between the versions of
// their CRD, as the CRD's conversion strategy says (None: apiVersion only;
// Webhook: its webhook). Admission converts with it what a webhook
// registered for another version of the resource is sent.
func (g *Registry) CustomConvertor() runtime.ObjectConvertor { return customConversions{g} }

type customConversions struct{ g *Registry }

func (c customConversions) converter(gvk schema.GroupVersionKind) (runtime.ObjectConvertor, error) {
	r := c.g.customByKind(gvk)
	if r == nil {
		return nil, fmt.Errorf("%v is not a served custom resource", gvk)
	}
	if conv := r.Custom.Convertor(); conv != nil {
		return conv, nil
	}
	return customConvertor{}, nil
}

// Convert converts in into out, whose kind says the version wanted.
func (c customConversions) Convert(in, out, _ interface{}) error {
	ui, ok1 := in.(*unstructured.Unstructured)
	uo, ok2 := out.(*unstructured.Unstructured)
	if !ok1 || !ok2 {
		return fmt.Errorf("custom resources are unstructured, not %T and %T", in, out)
	}
	conv, err := c.converter(ui.GroupVersionKind())
	if err != nil {
		return err
	}
	got, err := conv.ConvertToVersion(ui.DeepCopy(), uo.GroupVersionKind().GroupVersion())
	if err != nil {
		return ConversionError(err)
	}
	uo.SetUnstructuredContent(got.(runtime.Unstructured).UnstructuredContent())
	return nil
}

func (c customConversions) ConvertToVersion(in runtime.Object, gv runtime.GroupVersioner) (runtime.Object, error) {
	conv, err := c.converter(in.GetObjectKind().GroupVersionKind())
	if err != nil {
		return nil, err
	}
	return conv.ConvertToVersion(in, gv)
}

func (customConversions) ConvertFieldLabel(_ schema.GroupVersionKind, label, value string) (string, string, error) {
	return label, value, nil
}
