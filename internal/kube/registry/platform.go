package registry

import (
	"fmt"
	"strings"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The platform kinds a v1.33 server lists that stratus stores and shows but
// does not act on: runtime classes, CSI objects and volume attachments,
// certificate signing requests (nobody signs them), admission webhooks and
// policies (never called or evaluated), API priority and fairness objects,
// and the IP address and service CIDR objects (the service allocator keeps
// its own). Manifests and charts that carry them apply unchanged.

func runtimeClasses() *Resource {
	r := declare[nodev1.RuntimeClass, nodev1.RuntimeClassList]("node.k8s.io", "v1", "runtimeclasses", "RuntimeClass", false)
	r.Columns = []metav1.TableColumnDefinition{nameCol(), col("Handler", "string", "handler specifies the underlying runtime and configuration that the CRI implementation will use to handle pods of this class.", 0), ageCol()}
	r.Row = func(obj runtime.Object, now time.Time) []interface{} {
		rc := obj.(*nodev1.RuntimeClass)
		return []interface{}{rc.Name, rc.Handler, Age(rc.CreationTimestamp, now)}
	}
	r.Validate = func(obj, _ runtime.Object) field.ErrorList {
		if obj.(*nodev1.RuntimeClass).Handler == "" {
			return field.ErrorList{field.Required(field.NewPath("handler"), "")}
		}
		return nil
	}
	return r
}

func csiDrivers() *Resource {
	r := declare[storagev1.CSIDriver, storagev1.CSIDriverList]("storage.k8s.io", "v1", "csidrivers", "CSIDriver", false)
	r.HasSpec = true
	r.Columns = []metav1.TableColumnDefinition{nameCol(),
		col("AttachRequired", "boolean", "attachRequired indicates this CSI volume driver requires an attach operation.", 0),
		col("PodInfoOnMount", "boolean", "podInfoOnMount indicates this CSI volume driver requires additional pod information (like podName, podUID, etc.) during mount operations.", 0),
		col("StorageCapacity", "boolean", "storageCapacity indicates that the CSI volume driver wants pod scheduling to consider the storage capacity that the driver deployment will report.", 0),
		col("TokenRequests", "string", "tokenRequests indicates the CSI driver needs pods' service account tokens it is mounting volume for to do necessary authentication.", 0),
		col("RequiresRepublish", "boolean", "requiresRepublish indicates the CSI driver wants NodePublishVolume being periodically called to reflect any possible change in the mounted volume.", 0),
		col("Modes", "string", "volumeLifecycleModes defines what kind of volumes this CSI volume driver supports.", 0),
		ageCol()}
	r.Row = func(obj runtime.Object, now time.Time) []interface{} {
		d := obj.(*storagev1.CSIDriver)
		var modes []string
		for _, m := range d.Spec.VolumeLifecycleModes {
			modes = append(modes, string(m))
		}
		var aud []string
		for _, tr := range d.Spec.TokenRequests {
			aud = append(aud, tr.Audience)
		}
		b := func(p *bool) bool { return p != nil && *p }
		return []interface{}{d.Name, b(d.Spec.AttachRequired), b(d.Spec.PodInfoOnMount), b(d.Spec.StorageCapacity),
			orNone(strings.Join(aud, ","), len(aud)), b(d.Spec.RequiresRepublish), strings.Join(modes, ","), Age(d.CreationTimestamp, now)}
	}
	return r
}

func csiNodes() *Resource {
	r := declare[storagev1.CSINode, storagev1.CSINodeList]("storage.k8s.io", "v1", "csinodes", "CSINode", false)
	r.HasSpec = true
	r.Columns = []metav1.TableColumnDefinition{nameCol(), col("Drivers", "integer", "Drivers indicates the number of CSI drivers registered on the node", 0), ageCol()}
	r.Row = func(obj runtime.Object, now time.Time) []interface{} {
		n := obj.(*storagev1.CSINode)
		return []interface{}{n.Name, int64(len(n.Spec.Drivers)), Age(n.CreationTimestamp, now)}
	}
	return r
}

func csiStorageCapacities() *Resource {
	r := declare[storagev1.CSIStorageCapacity, storagev1.CSIStorageCapacityList]("storage.k8s.io", "v1", "csistoragecapacities", "CSIStorageCapacity", true)
	r.Columns = []metav1.TableColumnDefinition{nameCol(),
		col("StorageClassName", "string", "StorageClassName represents the name of the StorageClass that the reported capacity applies to.", 0),
		col("Capacity", "string", "Capacity is the value reported by the CSI driver in its GetCapacityResponse.", 0)}
	r.Row = func(obj runtime.Object, _ time.Time) []interface{} {
		c := obj.(*storagev1.CSIStorageCapacity)
		capacity := none
		if c.Capacity != nil {
			capacity = c.Capacity.String()
		}
		return []interface{}{c.Name, c.StorageClassName, capacity}
	}
	return r
}

func volumeAttachments() *Resource {
	r := declare[storagev1.VolumeAttachment, storagev1.VolumeAttachmentList]("storage.k8s.io", "v1", "volumeattachments", "VolumeAttachment", false).withStatus()
	r.Columns = []metav1.TableColumnDefinition{nameCol(),
		col("Attacher", "string", "Attacher indicates the name of the volume driver that MUST handle this request.", 0),
		col("PV", "string", "Name of the persistent volume to attach.", 0),
		col("Node", "string", "The node that the volume should be attached to.", 0),
		col("Attached", "boolean", "Indicates the volume is successfully attached.", 0), ageCol()}
	r.Row = func(obj runtime.Object, now time.Time) []interface{} {
		v := obj.(*storagev1.VolumeAttachment)
		pv := ""
		if v.Spec.Source.PersistentVolumeName != nil {
			pv = *v.Spec.Source.PersistentVolumeName
		}
		return []interface{}{v.Name, v.Spec.Attacher, pv, v.Spec.NodeName, v.Status.Attached, Age(v.CreationTimestamp, now)}
	}
	return r
}

func certificateSigningRequests() *Resource {
	r := declare[certificatesv1.CertificateSigningRequest, certificatesv1.CertificateSigningRequestList]("certificates.k8s.io", "v1", "certificatesigningrequests", "CertificateSigningRequest", false).withStatus("approval")
	r.ShortNames = []string{"csr"}
	r.Columns = []metav1.TableColumnDefinition{nameCol(), ageCol(),
		col("SignerName", "string", "Only include a signer name if the signer is set.", 0),
		col("Requestor", "string", "Name of the user requesting the certificate.", 0),
		col("RequestedDuration", "string", "Requested duration of the issued certificate.", 0),
		col("Condition", "string", "Shows the status of the certificate.", 0)}
	r.Row = func(obj runtime.Object, now time.Time) []interface{} {
		c := obj.(*certificatesv1.CertificateSigningRequest)
		dur := none
		if c.Spec.ExpirationSeconds != nil {
			dur = duration.HumanDuration(time.Duration(*c.Spec.ExpirationSeconds) * time.Second)
		}
		var conds []string
		for _, cd := range c.Status.Conditions {
			conds = append(conds, string(cd.Type))
		}
		cond := "Pending"
		if len(conds) > 0 {
			cond = strings.Join(conds, ",")
		}
		if len(c.Status.Certificate) > 0 {
			cond += ",Issued"
		}
		return []interface{}{c.Name, Age(c.CreationTimestamp, now), c.Spec.SignerName, c.Spec.Username, dur, cond}
	}
	r.Validate = func(obj, _ runtime.Object) field.ErrorList {
		c := obj.(*certificatesv1.CertificateSigningRequest)
		var errs field.ErrorList
		if len(c.Spec.Request) == 0 {
			errs = append(errs, field.Required(field.NewPath("spec", "request"), ""))
		}
		if c.Spec.SignerName == "" {
			errs = append(errs, field.Required(field.NewPath("spec", "signerName"), ""))
		}
		return errs
	}
	return r
}

const admissionGroup = "admissionregistration.k8s.io"

var categoriesAPIExtensions = []string{"api-extensions"}

func webhookColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{nameCol(), col("Webhooks", "integer", "Webhooks indicates the number of webhooks registered in this configuration", 0), ageCol()}
}

func mutatingWebhookConfigurations() *Resource {
	r := declare[admissionregistrationv1.MutatingWebhookConfiguration, admissionregistrationv1.MutatingWebhookConfigurationList](admissionGroup, "v1", "mutatingwebhookconfigurations", "MutatingWebhookConfiguration", false)
	r.Categories = categoriesAPIExtensions
	r.Columns = webhookColumns()
	r.Row = func(obj runtime.Object, now time.Time) []interface{} {
		c := obj.(*admissionregistrationv1.MutatingWebhookConfiguration)
		return []interface{}{c.Name, int64(len(c.Webhooks)), Age(c.CreationTimestamp, now)}
	}
	return r
}

func validatingWebhookConfigurations() *Resource {
	r := declare[admissionregistrationv1.ValidatingWebhookConfiguration, admissionregistrationv1.ValidatingWebhookConfigurationList](admissionGroup, "v1", "validatingwebhookconfigurations", "ValidatingWebhookConfiguration", false)
	r.Categories = categoriesAPIExtensions
	r.Columns = webhookColumns()
	r.Row = func(obj runtime.Object, now time.Time) []interface{} {
		c := obj.(*admissionregistrationv1.ValidatingWebhookConfiguration)
		return []interface{}{c.Name, int64(len(c.Webhooks)), Age(c.CreationTimestamp, now)}
	}
	return r
}

func validatingAdmissionPolicies() *Resource {
	r := declare[admissionregistrationv1.ValidatingAdmissionPolicy, admissionregistrationv1.ValidatingAdmissionPolicyList](admissionGroup, "v1", "validatingadmissionpolicies", "ValidatingAdmissionPolicy", false).withStatus()
	r.Categories = categoriesAPIExtensions
	r.Columns = []metav1.TableColumnDefinition{nameCol(),
		col("Validations", "integer", "Validations indicates the number of validation expressions", 0),
		col("ParamKind", "string", "ParamKind specifies the kind of resources used to parameterize this policy", 0), ageCol()}
	r.Row = func(obj runtime.Object, now time.Time) []interface{} {
		p := obj.(*admissionregistrationv1.ValidatingAdmissionPolicy)
		pk := none
		if k := p.Spec.ParamKind; k != nil {
			pk = k.APIVersion + "/" + k.Kind
		}
		return []interface{}{p.Name, int64(len(p.Spec.Validations)), pk, Age(p.CreationTimestamp, now)}
	}
	return r
}

func validatingAdmissionPolicyBindings() *Resource {
	r := declare[admissionregistrationv1.ValidatingAdmissionPolicyBinding, admissionregistrationv1.ValidatingAdmissionPolicyBindingList](admissionGroup, "v1", "validatingadmissionpolicybindings", "ValidatingAdmissionPolicyBinding", false)
	r.HasSpec = true
	r.Categories = categoriesAPIExtensions
	r.Columns = []metav1.TableColumnDefinition{nameCol(),
		col("PolicyName", "string", "PolicyName indicates the policy definition which the policy binding binded to", 0),
		col("ParamRef", "string", "ParamRef indicates the param resource which sets the configration param", 0), ageCol()}
	r.Row = func(obj runtime.Object, now time.Time) []interface{} {
		b := obj.(*admissionregistrationv1.ValidatingAdmissionPolicyBinding)
		ref := none
		if p := b.Spec.ParamRef; p != nil {
			ref = p.Name
			if p.Namespace != "" {
				ref = p.Namespace + "/" + p.Name
			}
		}
		return []interface{}{b.Name, b.Spec.PolicyName, ref, Age(b.CreationTimestamp, now)}
	}
	return r
}

const flowcontrolGroup = "flowcontrol.apiserver.k8s.io"

func flowSchemas() *Resource {
	r := declare[flowcontrolv1.FlowSchema, flowcontrolv1.FlowSchemaList](flowcontrolGroup, "v1", "flowschemas", "FlowSchema", false).withStatus()
	r.Columns = []metav1.TableColumnDefinition{nameCol(),
		col("PriorityLevel", "string", "priorityLevelConfiguration is a reference to a PriorityLevelConfiguration.", 0),
		col("MatchingPrecedence", "string", "matchingPrecedence is used to choose among the FlowSchemas that match a given request.", 0),
		col("DistinguisherMethod", "string", "distinguisherMethod defines how to compute the flow distinguisher for requests that match this schema.", 0),
		ageCol(),
		col("MissingPL", "string", "references a broken or non-existent PriorityLevelConfiguration", 0)}
	r.Row = func(obj runtime.Object, now time.Time) []interface{} {
		f := obj.(*flowcontrolv1.FlowSchema)
		dm := none
		if f.Spec.DistinguisherMethod != nil {
			dm = string(f.Spec.DistinguisherMethod.Type)
		}
		missing := "?"
		for _, c := range f.Status.Conditions {
			if c.Type == flowcontrolv1.FlowSchemaConditionDangling {
				missing = string(c.Status)
			}
		}
		return []interface{}{f.Name, f.Spec.PriorityLevelConfiguration.Name, int64(f.Spec.MatchingPrecedence), dm, Age(f.CreationTimestamp, now), missing}
	}
	return r
}

func priorityLevelConfigurations() *Resource {
	r := declare[flowcontrolv1.PriorityLevelConfiguration, flowcontrolv1.PriorityLevelConfigurationList](flowcontrolGroup, "v1", "prioritylevelconfigurations", "PriorityLevelConfiguration", false).withStatus()
	r.Columns = []metav1.TableColumnDefinition{nameCol(),
		col("Type", "string", "type indicates whether this priority level is subject to limitation on request execution.", 0),
		col("NominalConcurrencyShares", "string", "nominalConcurrencyShares (NCS) contributes to the computation of the NominalConcurrencyLimit (NominalCL) of this level.", 0),
		col("Queues", "string", "queues is the number of queues for this priority level.", 0),
		col("HandSize", "string", "handSize is a small positive number that configures the shuffle sharding of requests into queues.", 0),
		col("QueueLengthLimit", "string", "queueLengthLimit is the maximum number of requests allowed to be waiting in a given queue of this priority level at a time.", 0),
		ageCol()}
	r.Row = func(obj runtime.Object, now time.Time) []interface{} {
		p := obj.(*flowcontrolv1.PriorityLevelConfiguration)
		ncs, queues, hand, qlen := none, none, none, none
		if l := p.Spec.Limited; l != nil {
			if l.NominalConcurrencyShares != nil {
				ncs = fmt.Sprint(*l.NominalConcurrencyShares)
			}
			if q := l.LimitResponse.Queuing; q != nil {
				queues, hand, qlen = fmt.Sprint(q.Queues), fmt.Sprint(q.HandSize), fmt.Sprint(q.QueueLengthLimit)
			}
		}
		return []interface{}{p.Name, string(p.Spec.Type), ncs, queues, hand, qlen, Age(p.CreationTimestamp, now)}
	}
	return r
}

func ipAddresses() *Resource {
	r := declare[networkingv1.IPAddress, networkingv1.IPAddressList]("networking.k8s.io", "v1", "ipaddresses", "IPAddress", false)
	r.ShortNames = []string{"ip"}
	r.HasSpec = true
	r.Columns = []metav1.TableColumnDefinition{nameCol(), col("ParentRef", "string", "ParentRef references the resource that an IPAddress is attached to.", 0)}
	r.Row = func(obj runtime.Object, _ time.Time) []interface{} {
		ip := obj.(*networkingv1.IPAddress)
		ref := ""
		if p := ip.Spec.ParentRef; p != nil {
			ref = p.Resource
			if p.Group != "" {
				ref += "." + p.Group
			}
			ref += "/" + p.Namespace + "/" + p.Name
		}
		return []interface{}{ip.Name, ref}
	}
	return r
}

func serviceCIDRs() *Resource {
	r := declare[networkingv1.ServiceCIDR, networkingv1.ServiceCIDRList]("networking.k8s.io", "v1", "servicecidrs", "ServiceCIDR", false).withStatus()
	r.Columns = []metav1.TableColumnDefinition{nameCol(), col("CIDRs", "string", "spec.cidrs defines the IP blocks in CIDR notation (e.g. \"192.168.0.0/24\" or \"2001:db8::/64\") from which to assign service cluster IPs.", 0), ageCol()}
	r.Row = func(obj runtime.Object, now time.Time) []interface{} {
		c := obj.(*networkingv1.ServiceCIDR)
		return []interface{}{c.Name, strings.Join(c.Spec.CIDRs, ","), Age(c.CreationTimestamp, now)}
	}
	return r
}
