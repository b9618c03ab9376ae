package controller

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"

	"github.com/stratus-cloud/stratus/internal/kube/controller/scheduler"
)

// The persistentvolume controller binds claims to volumes as
// kube-controller-manager's PV binder does, and is the cluster's volume
// provisioner:
//   - at start it creates the StorageClass "standard" (annotated default,
//     WaitForFirstConsumer, reclaim Delete) when no class exists yet;
//   - a claim without a class gets the default class (upstream's
//     retroactive default StorageClass assignment);
//   - an unbound claim is bound to the smallest Available volume of its
//     class that fits (access modes, size, selector); with
//     WaitForFirstConsumer only once the scheduler has written the
//     selected-node annotation;
//   - otherwise, for a class of Provisioner, a volume pvc-<claim uid> is
//     created and bound: a hostPath directory under VolumeDir, pinned to
//     the node, when the chosen node runs real containers (exec, docker);
//     a simulated volume (the same shape, no directory) otherwise;
//   - a volume whose claim is gone is Released, and deleted (with its
//     directory) when its reclaim policy is Delete and it was provisioned
//     here.
//
// Shortcuts: no pvc-protection or pv-protection finalizers; claims are
// not resized; the runtimes do not mount volumes yet (a hostPath
// volume's directory exists, a container does not see it).

const (
	volumeComponent = "persistentvolume-controller"
	// Provisioner is the provisioner name of stratus's own StorageClass.
	Provisioner = "stratus.io/hostpath"
	// DefaultStorageClass is the class created at start.
	DefaultStorageClass = "standard"

	annDefaultClass      = "storageclass.kubernetes.io/is-default-class"
	annStorageProvider   = "volume.kubernetes.io/storage-provisioner"
	annBetaStorageProv   = "volume.beta.kubernetes.io/storage-provisioner"
	annBindCompleted     = "pv.kubernetes.io/bind-completed"
	annBoundByController = "pv.kubernetes.io/bound-by-controller"
	annProvisionedBy     = "pv.kubernetes.io/provisioned-by"
	annSimulatedVolume   = "volume.stratus.io/simulated"
	labelNodeRuntime     = "node.stratus.io/runtime"
)

type volumeController struct {
	m       *Manager
	claims  *loop
	volumes *loop
	claimL  corelisters.PersistentVolumeClaimLister
	volL    corelisters.PersistentVolumeLister
	classL  storagelisters.StorageClassLister
	nodeL   corelisters.NodeLister
	rec     record.EventRecorder
}

func (m *Manager) addVolumes() {
	v := &volumeController{m: m, rec: m.recorder(volumeComponent)}
	v.claims = m.newLoop("persistentvolumeclaim", m.o.Workers, v.syncClaim)
	v.volumes = m.newLoop("persistentvolume", m.o.Workers, v.syncVolume)
	ci := m.factory.Core().V1().PersistentVolumeClaims()
	vi := m.factory.Core().V1().PersistentVolumes()
	si := m.factory.Storage().V1().StorageClasses()
	v.claimL, v.volL, v.classL = ci.Lister(), vi.Lister(), si.Lister()
	v.nodeL = m.factory.Core().V1().Nodes().Lister()
	_, _ = ci.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    v.claims.enqueue,
		UpdateFunc: func(_, obj any) { v.claims.enqueue(obj) },
		DeleteFunc: func(obj any) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			// a deleted claim releases its volume
			if c, ok := obj.(*corev1.PersistentVolumeClaim); ok && c.Spec.VolumeName != "" {
				v.volumes.q.Add(c.Spec.VolumeName)
			}
		},
	})
	_, _ = vi.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    v.volumeEvent,
		UpdateFunc: func(_, obj any) { v.volumeEvent(obj) },
	})
	// A new class (the default one above all) may unblock waiting claims.
	_, _ = si.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: func(any) {
		cs, _ := v.claimL.List(labels.Everything())
		for _, c := range cs {
			if c.Spec.VolumeName == "" {
				v.claims.enqueue(c)
			}
		}
	}})
	m.runs = append(m.runs, v.ensureDefaultClass)
}

func (v *volumeController) volumeEvent(obj any) {
	v.volumes.enqueue(obj)
	if pv, ok := obj.(*corev1.PersistentVolume); ok {
		if r := pv.Spec.ClaimRef; r != nil {
			v.claims.q.Add(r.Namespace + "/" + r.Name)
		} else {
			// an Available volume may fit a waiting claim
			cs, _ := v.claimL.List(labels.Everything())
			for _, c := range cs {
				if c.Spec.VolumeName == "" {
					v.claims.enqueue(c)
				}
			}
		}
	}
}

// ensureDefaultClass creates the StorageClass "standard" when the cluster
// has no class at all (a class the user deleted or replaced stays so).
func (v *volumeController) ensureDefaultClass(ctx context.Context) {
	cs, err := v.classL.List(labels.Everything())
	if err != nil || len(cs) > 0 {
		return
	}
	sc := &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{Name: DefaultStorageClass, Annotations: map[string]string{annDefaultClass: "true"},
			Labels: map[string]string{"app.kubernetes.io/managed-by": "stratus"}},
		Provisioner:       Provisioner,
		ReclaimPolicy:     ptr.To(corev1.PersistentVolumeReclaimDelete),
		VolumeBindingMode: ptr.To(storagev1.VolumeBindingWaitForFirstConsumer),
	}
	if _, err := v.m.o.Client.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) && ctx.Err() == nil {
		v.m.log.Warn("creating the default StorageClass", "err", err)
	}
}

// defaultClass is the newest class annotated default (as upstream picks
// among several).
func (v *volumeController) defaultClass() *storagev1.StorageClass {
	cs, _ := v.classL.List(labels.Everything())
	var best *storagev1.StorageClass
	for _, c := range cs {
		if c.Annotations[annDefaultClass] != "true" && c.Annotations["storageclass.beta.kubernetes.io/is-default-class"] != "true" {
			continue
		}
		if best == nil || c.CreationTimestamp.After(best.CreationTimestamp.Time) ||
			(c.CreationTimestamp.Equal(&best.CreationTimestamp) && c.Name < best.Name) {
			best = c
		}
	}
	return best
}

func (v *volumeController) syncClaim(ctx context.Context, key string) (time.Duration, error) {
	ns, name, _ := strings.Cut(key, "/")
	c, err := v.claimL.PersistentVolumeClaims(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil || c.DeletionTimestamp != nil {
		return 0, err
	}
	if c.Spec.StorageClassName == nil && c.Spec.VolumeName == "" {
		dc := v.defaultClass()
		if dc == nil {
			return 0, nil // waits for one, as upstream
		}
		upd := c.DeepCopy()
		upd.Spec.StorageClassName = ptr.To(dc.Name)
		_, err := v.m.o.Client.CoreV1().PersistentVolumeClaims(ns).Update(ctx, upd, metav1.UpdateOptions{})
		return 0, ignoreGone(err)
	}
	if c.Spec.VolumeName != "" {
		return 0, v.syncBoundClaim(ctx, c)
	}
	class := ptr.Deref(c.Spec.StorageClassName, "")
	var sc *storagev1.StorageClass
	if class != "" {
		if sc, err = v.classL.Get(class); err != nil && !apierrors.IsNotFound(err) {
			return 0, err
		}
	}
	node := c.Annotations[scheduler.AnnSelectedNode]
	if sc != nil && ptr.Deref(sc.VolumeBindingMode, "") == storagev1.VolumeBindingWaitForFirstConsumer && node == "" {
		v.rec.Event(c, corev1.EventTypeNormal, "WaitForFirstConsumer", "waiting for first consumer to be created before binding")
		return 0, nil
	}
	if pv := v.findVolume(c, class, node); pv != nil {
		return 0, v.bind(ctx, pv, c)
	}
	switch {
	case sc != nil && sc.Provisioner == Provisioner:
		return 0, v.provision(ctx, c, sc, node)
	case sc != nil:
		if c.Annotations[annStorageProvider] != sc.Provisioner {
			upd := c.DeepCopy()
			setAnn(&upd.ObjectMeta, annStorageProvider, sc.Provisioner)
			setAnn(&upd.ObjectMeta, annBetaStorageProv, sc.Provisioner)
			if _, err := v.m.o.Client.CoreV1().PersistentVolumeClaims(ns).Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
				return 0, ignoreGone(err)
			}
		}
		v.rec.Eventf(c, corev1.EventTypeNormal, "ExternalProvisioning",
			"Waiting for a volume to be created either by the external provisioner '%s' or manually by the system administrator. If volume creation is delayed, please verify that your external provisioner is running and correctly registered.", sc.Provisioner)
	case class != "":
		v.rec.Eventf(c, corev1.EventTypeWarning, "ProvisioningFailed", "storageclass.storage.k8s.io %q not found", class)
	default:
		v.rec.Event(c, corev1.EventTypeNormal, "FailedBinding", "no persistent volumes available for this claim and no storage class is set")
	}
	return 0, nil
}

// syncBoundClaim finishes or checks the binding of a claim that names its
// volume.
func (v *volumeController) syncBoundClaim(ctx context.Context, c *corev1.PersistentVolumeClaim) error {
	pv, err := v.volL.Get(c.Spec.VolumeName)
	if apierrors.IsNotFound(err) {
		if c.Status.Phase == corev1.ClaimBound {
			v.rec.Event(c, corev1.EventTypeWarning, "ClaimLost", "Bound claim has lost its PersistentVolume. Data on the volume is lost!")
			return v.claimStatus(ctx, c, corev1.ClaimLost, nil)
		}
		return nil // pre-bound to a volume not created yet
	}
	if err != nil {
		return err
	}
	if r := pv.Spec.ClaimRef; r != nil && (r.Namespace != c.Namespace || r.Name != c.Name || (r.UID != "" && r.UID != c.UID)) {
		v.rec.Eventf(c, corev1.EventTypeWarning, "FailedBinding", "volume %q already bound to a different claim.", pv.Name)
		return nil
	}
	return v.bind(ctx, pv, c)
}

// findVolume is the smallest Available volume that c may bind: a volume
// pre-bound to c first.
func (v *volumeController) findVolume(c *corev1.PersistentVolumeClaim, class, node string) *corev1.PersistentVolume {
	pvs, _ := v.volL.List(labels.Everything())
	want := c.Spec.Resources.Requests[corev1.ResourceStorage]
	var sel labels.Selector
	if c.Spec.Selector != nil {
		s, err := metav1.LabelSelectorAsSelector(c.Spec.Selector)
		if err != nil {
			return nil
		}
		sel = s
	}
	var nodeObj *corev1.Node
	if node != "" {
		nodeObj, _ = v.nodeL.Get(node)
	}
	var best *corev1.PersistentVolume
	for _, pv := range pvs {
		if r := pv.Spec.ClaimRef; r != nil {
			if r.Namespace == c.Namespace && r.Name == c.Name && (r.UID == "" || r.UID == c.UID) {
				return pv
			}
			continue
		}
		if pv.DeletionTimestamp != nil || pv.Status.Phase != corev1.VolumeAvailable || pv.Spec.StorageClassName != class ||
			ptr.Deref(pv.Spec.VolumeMode, corev1.PersistentVolumeFilesystem) != ptr.Deref(c.Spec.VolumeMode, corev1.PersistentVolumeFilesystem) ||
			!hasModes(pv.Spec.AccessModes, c.Spec.AccessModes) || (sel != nil && !sel.Matches(labels.Set(pv.Labels))) {
			continue
		}
		size := pv.Spec.Capacity[corev1.ResourceStorage]
		if size.Cmp(want) < 0 {
			continue
		}
		if nodeObj != nil && !scheduler.VolumeFitsNode(pv, nodeObj) {
			continue
		}
		if best == nil {
			best = pv
			continue
		}
		bs := best.Spec.Capacity[corev1.ResourceStorage]
		if size.Cmp(bs) < 0 {
			best = pv
		}
	}
	return best
}

func hasModes(have, want []corev1.PersistentVolumeAccessMode) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}

// provision creates c's volume and binds it.
func (v *volumeController) provision(ctx context.Context, c *corev1.PersistentVolumeClaim, sc *storagev1.StorageClass, node string) error {
	name := "pvc-" + string(c.UID)
	v.rec.Eventf(c, corev1.EventTypeNormal, "Provisioning", "External provisioner is provisioning volume for claim %q", c.Namespace+"/"+c.Name)
	simulated := true
	var nodeObj *corev1.Node
	if node != "" {
		n, err := v.nodeL.Get(node)
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		nodeObj = n
	}
	if nodeObj != nil && v.m.o.VolumeDir != "" {
		switch nodeObj.Labels[labelNodeRuntime] {
		case "exec", "docker":
			simulated = false
		}
	}
	dir := filepath.Join(v.m.o.VolumeDir, name)
	if v.m.o.VolumeDir == "" {
		dir = filepath.Join("/var/lib/stratus/volumes", name)
	}
	if !simulated {
		if err := os.MkdirAll(dir, 0o777); err != nil {
			v.rec.Eventf(c, corev1.EventTypeWarning, "ProvisioningFailed", "failed to provision volume with StorageClass %q: %v", sc.Name, err)
			return err
		}
	}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{annProvisionedBy: Provisioner}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: c.Spec.Resources.Requests[corev1.ResourceStorage]},
			AccessModes:                   c.Spec.AccessModes,
			PersistentVolumeReclaimPolicy: ptr.Deref(sc.ReclaimPolicy, corev1.PersistentVolumeReclaimDelete),
			StorageClassName:              sc.Name,
			VolumeMode:                    c.Spec.VolumeMode,
			MountOptions:                  sc.MountOptions,
			ClaimRef: &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: c.Namespace, Name: c.Name,
				UID: c.UID, ResourceVersion: c.ResourceVersion},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: dir,
				Type: ptr.To(corev1.HostPathDirectoryOrCreate)}},
		},
	}
	if simulated {
		pv.Annotations[annSimulatedVolume] = "true"
	}
	if nodeObj != nil {
		host := nodeObj.Labels[corev1.LabelHostname]
		if host == "" {
			host = nodeObj.Name
		}
		pv.Spec.NodeAffinity = &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: corev1.LabelHostname, Operator: corev1.NodeSelectorOpIn, Values: []string{host}}}}}}}
	}
	created, err := v.m.o.Client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	switch {
	case apierrors.IsAlreadyExists(err):
		if created, err = v.m.o.Client.CoreV1().PersistentVolumes().Get(ctx, name, metav1.GetOptions{}); err != nil {
			return err
		}
	case err != nil:
		v.rec.Eventf(c, corev1.EventTypeWarning, "ProvisioningFailed", "failed to provision volume with StorageClass %q: %v", sc.Name, err)
		return err
	default:
		v.rec.Eventf(c, corev1.EventTypeNormal, "ProvisioningSucceeded", "Successfully provisioned volume %s", name)
	}
	return v.bind(ctx, created, c)
}

// bind writes both halves of a binding and both statuses, each only when
// it differs: the volume's claimRef, then the claim's volumeName.
func (v *volumeController) bind(ctx context.Context, pv *corev1.PersistentVolume, c *corev1.PersistentVolumeClaim) error {
	client := v.m.o.Client.CoreV1()
	if r := pv.Spec.ClaimRef; r == nil || r.UID != c.UID {
		upd := pv.DeepCopy()
		if r == nil {
			setAnn(&upd.ObjectMeta, annBoundByController, "yes")
		}
		upd.Spec.ClaimRef = &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: c.Namespace, Name: c.Name,
			UID: c.UID, ResourceVersion: c.ResourceVersion}
		out, err := client.PersistentVolumes().Update(ctx, upd, metav1.UpdateOptions{})
		if err != nil {
			return ignoreGone(err)
		}
		pv = out
	}
	if pv.Status.Phase != corev1.VolumeBound {
		upd := pv.DeepCopy()
		upd.Status = corev1.PersistentVolumeStatus{Phase: corev1.VolumeBound, LastPhaseTransitionTime: ptr.To(metav1.NewTime(time.Now().Truncate(time.Second)))}
		if _, err := client.PersistentVolumes().UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil {
			return ignoreGone(err)
		}
	}
	if c.Spec.VolumeName != pv.Name || c.Annotations[annBindCompleted] != "yes" {
		upd := c.DeepCopy()
		if upd.Spec.VolumeName == "" {
			setAnn(&upd.ObjectMeta, annBoundByController, "yes")
		}
		upd.Spec.VolumeName = pv.Name
		setAnn(&upd.ObjectMeta, annBindCompleted, "yes")
		if p := pv.Annotations[annProvisionedBy]; p != "" {
			setAnn(&upd.ObjectMeta, annStorageProvider, p)
			setAnn(&upd.ObjectMeta, annBetaStorageProv, p)
		}
		out, err := client.PersistentVolumeClaims(c.Namespace).Update(ctx, upd, metav1.UpdateOptions{})
		if err != nil {
			return ignoreGone(err)
		}
		c = out
	}
	return v.claimStatus(ctx, c, corev1.ClaimBound, pv)
}

func (v *volumeController) claimStatus(ctx context.Context, c *corev1.PersistentVolumeClaim, phase corev1.PersistentVolumeClaimPhase, pv *corev1.PersistentVolume) error {
	st := corev1.PersistentVolumeClaimStatus{Phase: phase}
	if pv != nil {
		st.AccessModes = pv.Spec.AccessModes
		st.Capacity = corev1.ResourceList{corev1.ResourceStorage: pv.Spec.Capacity[corev1.ResourceStorage]}
	}
	if c.Status.Phase == st.Phase && fmt.Sprint(c.Status.AccessModes) == fmt.Sprint(st.AccessModes) &&
		c.Status.Capacity.Storage().Cmp(*st.Capacity.Storage()) == 0 {
		return nil
	}
	upd := c.DeepCopy()
	upd.Status = st
	_, err := v.m.o.Client.CoreV1().PersistentVolumeClaims(c.Namespace).UpdateStatus(ctx, upd, metav1.UpdateOptions{})
	return ignoreGone(err)
}

func (v *volumeController) syncVolume(ctx context.Context, name string) (time.Duration, error) {
	pv, err := v.volL.Get(name)
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil || pv.DeletionTimestamp != nil {
		return 0, err
	}
	r := pv.Spec.ClaimRef
	if r == nil {
		return 0, v.volumePhase(ctx, pv, corev1.VolumeAvailable)
	}
	c, err := v.claimL.PersistentVolumeClaims(r.Namespace).Get(r.Name)
	if err != nil && !apierrors.IsNotFound(err) {
		return 0, err
	}
	if c != nil && (r.UID == "" || r.UID == c.UID) {
		if c.Spec.VolumeName == pv.Name {
			return 0, v.volumePhase(ctx, pv, corev1.VolumeBound)
		}
		v.claims.enqueue(c)
		return 0, nil
	}
	if r.UID == "" {
		return 0, v.volumePhase(ctx, pv, corev1.VolumeAvailable) // pre-bound, claim not yet made
	}
	if c == nil {
		// The informer may lag a just-created claim: ask the server.
		got, err := v.m.o.Client.CoreV1().PersistentVolumeClaims(r.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
		if err == nil && got.UID == r.UID {
			return time.Second, nil
		}
		if err != nil && !apierrors.IsNotFound(err) {
			return 0, err
		}
	}
	// The claim is gone: the volume is released.
	if err := v.volumePhase(ctx, pv, corev1.VolumeReleased); err != nil {
		return 0, err
	}
	if pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete || pv.Annotations[annProvisionedBy] != Provisioner {
		return 0, nil
	}
	if hp := pv.Spec.HostPath; hp != nil && pv.Annotations[annSimulatedVolume] != "true" && v.m.o.VolumeDir != "" &&
		filepath.Dir(hp.Path) == filepath.Clean(v.m.o.VolumeDir) {
		if err := os.RemoveAll(hp.Path); err != nil {
			v.rec.Eventf(pv, corev1.EventTypeWarning, "VolumeFailedDelete", "%v", err)
			return 0, err
		}
	}
	err = v.m.o.Client.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &pv.UID}})
	return 0, ignoreGone(err)
}

func (v *volumeController) volumePhase(ctx context.Context, pv *corev1.PersistentVolume, phase corev1.PersistentVolumePhase) error {
	if pv.Status.Phase == phase {
		return nil
	}
	upd := pv.DeepCopy()
	upd.Status = corev1.PersistentVolumeStatus{Phase: phase, LastPhaseTransitionTime: ptr.To(metav1.NewTime(time.Now().Truncate(time.Second)))}
	_, err := v.m.o.Client.CoreV1().PersistentVolumes().UpdateStatus(ctx, upd, metav1.UpdateOptions{})
	return ignoreGone(err)
}

func setAnn(m *metav1.ObjectMeta, k, val string) {
	if m.Annotations == nil {
		m.Annotations = map[string]string{}
	}
	m.Annotations[k] = val
}

// ignoreGone treats a vanished object as done; a conflict is retried.
func ignoreGone(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
