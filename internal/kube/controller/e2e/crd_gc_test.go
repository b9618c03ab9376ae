package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/testenv"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/stratus-cloud/stratus/internal/kube/apiserver/apiservertest"
	"github.com/stratus-cloud/stratus/internal/kube/controller"
)

// TestGCCollectsDependentsOfCustomResources: an object owned by a custom
// resource (as operators make them) goes when its owner is deleted.
func TestGCCollectsDependentsOfCustomResources(t *testing.T) {
	ctx := context.Background()
	c := startCluster(t, controller.Options{})
	cfg := apiservertest.RESTConfig(t, c.srv)
	createCRD(t, cfg, "gadgets", "Gadget")
	dyn := dynamic.NewForConfigOrDie(cfg).Resource(schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "gadgets"}).Namespace("default")
	var owner *unstructured.Unstructured
	testenv.Eventually(t, 5*time.Second, "gadget created", func() bool {
		var err error
		owner, err = dyn.Create(ctx, &unstructured.Unstructured{Object: map[string]any{"apiVersion": "example.com/v1", "kind": "Gadget",
			"metadata": map[string]any{"name": "g1"}}}, metav1.CreateOptions{})
		return err == nil
	})
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "g1-config", Namespace: "default",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "example.com/v1", Kind: "Gadget", Name: "g1", UID: owner.GetUID()}}}}
	if _, err := c.cs.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := c.cs.CoreV1().ConfigMaps("default").Get(ctx, "g1-config", metav1.GetOptions{}); err != nil {
		t.Fatalf("dependent of a live owner: %v", err)
	}
	if err := dyn.Delete(ctx, "g1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 15*time.Second, "dependent collected", func() bool {
		_, err := c.cs.CoreV1().ConfigMaps("default").Get(ctx, "g1-config", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
}

// createCRD makes a namespaced example.com/v1 custom resource of any
// content, plural and kind as named.
func createCRD(t *testing.T, cfg *rest.Config, plural, kind string) {
	t.Helper()
	crd := &apiextensionsv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Name: plural + ".example.com"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{Group: "example.com", Scope: apiextensionsv1.NamespaceScoped,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: plural, Kind: kind},
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{Type: "object", XPreserveUnknownFields: ptr.To(true)}}}}}}
	if _, err := apiextensionsclient.NewForConfigOrDie(cfg).ApiextensionsV1().CustomResourceDefinitions().Create(context.Background(), crd, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}
