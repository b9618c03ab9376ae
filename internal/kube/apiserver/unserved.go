package apiserver

import (
	"net/http"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// unservedPodSubresources are the pod subresources a real API server
// serves by streaming to the pod's node, which stratus does not do yet:
// a request for one gets a Status that says so, not a bare 404.
var unservedPodSubresources = map[string]string{
	"exec":        "kubectl exec",
	"attach":      "kubectl attach",
	"portforward": "kubectl port-forward",
}

// unservedSubresource returns the Status error for a pod subresource that
// is known but not served yet, or nil.
func unservedSubresource(ri requestInfo) error {
	if ri.group != "" || ri.resource != "pods" || ri.name == "" {
		return nil
	}
	what, ok := unservedPodSubresources[ri.subresource]
	if !ok {
		return nil
	}
	return newStatus(http.StatusNotFound, metav1.StatusReasonNotFound,
		"pods/"+ri.subresource+" is not served by stratus yet: the API server does not stream to nodes, so "+what+
			" cannot reach pod "+ri.namespace+"/"+ri.name+"; 'kubectl logs' works")
}
