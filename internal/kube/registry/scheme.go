// Package registry holds what the Kubernetes API knows about each resource
// it serves: the types (from k8s.io/api), defaulting, validation, the table
// columns the real server prints, the fields one can select on, and the
// generic storage of objects in the store (keys, encoding, optimistic
// concurrency, graceful deletion, finalizers, allocation of service IPs and
// node ports).
//
// The HTTP side (package apiserver) turns requests into calls on Storage.
package registry

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1beta1 "k8s.io/apimachinery/pkg/apis/meta/v1beta1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
)

// Codecs bundles the scheme and the serializers built on it. One value is
// made per server (no package-level mutable state).
type Codecs struct {
	Scheme  *runtime.Scheme
	Factory serializer.CodecFactory
	// Params decodes query parameters into option structs.
	Params runtime.ParameterCodec
	// JSON, YAML, Protobuf encode and decode (non-strict).
	JSON       *json.Serializer
	Strict     *json.Serializer
	YAML       *json.Serializer
	StrictYAML *json.Serializer
	Protobuf   *protobuf.Serializer
}

// NewCodecs builds the scheme with every group the API serves, registers
// the defaulting functions and returns the codecs.
func NewCodecs() *Codecs {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, autoscalingv1.AddToScheme, autoscalingv2.AddToScheme,
		batchv1.AddToScheme, coordinationv1.AddToScheme, discoveryv1.AddToScheme, networkingv1.AddToScheme,
		policyv1.AddToScheme, rbacv1.AddToScheme, schedulingv1.AddToScheme, storagev1.AddToScheme,
		admissionregistrationv1.AddToScheme, certificatesv1.AddToScheme, flowcontrolv1.AddToScheme, nodev1.AddToScheme,
		authenticationv1.AddToScheme, eventsv1.AddToScheme, apiextensionsv1.AddToScheme, metav1.AddMetaToScheme, metav1beta1.AddMetaToScheme,
	} {
		if err := add(s); err != nil {
			panic(err) // static registration; cannot fail at run time
		}
	}
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	// The request options under meta.k8s.io/v1 too, where the real server
	// decodes query parameters and delete bodies (apiVersion meta.k8s.io/v1).
	s.AddKnownTypes(metav1.SchemeGroupVersion, &metav1.ListOptions{}, &metav1.GetOptions{},
		&metav1.DeleteOptions{}, &metav1.CreateOptions{}, &metav1.UpdateOptions{}, &metav1.PatchOptions{})
	if err := registerConnectParams(s); err != nil {
		panic(err) // static registration; cannot fail at run time
	}
	if err := registerConversions(s); err != nil {
		panic(err) // static registration; cannot fail at run time
	}
	registerDefaults(s)
	c := &Codecs{Scheme: s, Factory: serializer.NewCodecFactory(s)}
	c.Params = runtime.NewParameterCodec(s)
	c.JSON = json.NewSerializerWithOptions(json.DefaultMetaFactory, s, s, json.SerializerOptions{})
	c.Strict = json.NewSerializerWithOptions(json.DefaultMetaFactory, s, s, json.SerializerOptions{Strict: true})
	c.YAML = json.NewSerializerWithOptions(json.DefaultMetaFactory, s, s, json.SerializerOptions{Yaml: true})
	c.StrictYAML = json.NewSerializerWithOptions(json.DefaultMetaFactory, s, s, json.SerializerOptions{Yaml: true, Strict: true})
	c.Protobuf = protobuf.NewSerializer(s, s)
	return c
}
