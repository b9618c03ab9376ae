package scheduler

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/utils/ptr"
)

// Volume binding, as kube-scheduler's VolumeBinding plugin does it:
//   - a pod whose claim is missing, being deleted, or unbound with an
//     Immediate class is unschedulable until that changes;
//   - a bound claim's volume node affinity filters nodes;
//   - an unbound claim of a WaitForFirstConsumer class is bound after the
//     node is chosen: the scheduler writes the node into the claim's
//     selected-node annotation, waits for the volume controller to bind
//     (polling once a second, as upstream, for at most BindTimeout), then
//     binds the pod.

// AnnSelectedNode is the claim annotation naming the node its first
// consumer was scheduled to.
const AnnSelectedNode = "volume.kubernetes.io/selected-node"

const (
	reasonVolumeAffinity = "node(s) had volume node affinity conflict"
	reasonUnboundClaims  = "pod has unbound immediate PersistentVolumeClaims"
	volumePollInterval   = time.Second
	bindTimeout          = 600 * time.Second
)

// podVolumes is what a pod's claims ask of its node.
type podVolumes struct {
	affinity []*corev1.NodeSelector // of bound volumes
	delayed  []string               // claims to bind once the node is chosen
}

// volumesOf checks p's claims; a non-empty message makes p unschedulable
// on every node.
func (s *Scheduler) volumesOf(p *corev1.Pod) (*podVolumes, string) {
	var pv *podVolumes
	for i := range p.Spec.Volumes {
		src := p.Spec.Volumes[i].PersistentVolumeClaim
		if src == nil {
			continue
		}
		if pv == nil {
			pv = &podVolumes{}
		}
		c, err := s.claimLister.PersistentVolumeClaims(p.Namespace).Get(src.ClaimName)
		if err != nil {
			return nil, fmt.Sprintf("persistentvolumeclaim %q not found", src.ClaimName)
		}
		if c.DeletionTimestamp != nil {
			return nil, fmt.Sprintf("persistentvolumeclaim %q is being deleted", c.Name)
		}
		if c.Spec.VolumeName != "" {
			vol, err := s.volumeLister.Get(c.Spec.VolumeName)
			if err != nil {
				return nil, "pvc(s) bound to non-existent pv(s)"
			}
			if vol.Spec.NodeAffinity != nil && vol.Spec.NodeAffinity.Required != nil {
				pv.affinity = append(pv.affinity, vol.Spec.NodeAffinity.Required)
			}
			continue
		}
		class := ptr.Deref(c.Spec.StorageClassName, "")
		sc, err := s.classLister.Get(class)
		if class == "" || err != nil || ptr.Deref(sc.VolumeBindingMode, "") != storagev1.VolumeBindingWaitForFirstConsumer {
			return nil, reasonUnboundClaims
		}
		pv.delayed = append(pv.delayed, c.Name)
	}
	return pv, ""
}

// fits says why n cannot hold the pod's volumes ("" when it can).
func (v *podVolumes) fits(n *corev1.Node) string {
	if v == nil {
		return ""
	}
	for _, sel := range v.affinity {
		if ok, _ := corev1helpers.MatchNodeSelectorTerms(n, sel); !ok {
			return reasonVolumeAffinity
		}
	}
	return ""
}

// VolumeFitsNode says whether pv's node affinity admits n.
func VolumeFitsNode(pv *corev1.PersistentVolume, n *corev1.Node) bool {
	if pv.Spec.NodeAffinity == nil || pv.Spec.NodeAffinity.Required == nil {
		return true
	}
	ok, _ := corev1helpers.MatchNodeSelectorTerms(n, pv.Spec.NodeAffinity.Required)
	return ok
}

// bindVolumes writes the chosen node into each delayed claim and waits
// until the volume controller has bound them all.
func (s *Scheduler) bindVolumes(ctx context.Context, req bindReq) error {
	for _, name := range strings.Split(req.claims, ",") {
		err := retryConflict(ctx, func() error {
			c, err := s.client.CoreV1().PersistentVolumeClaims(req.ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil || c.Spec.VolumeName != "" || c.Annotations[AnnSelectedNode] == req.node {
				return err
			}
			if c.Annotations == nil {
				c.Annotations = map[string]string{}
			}
			c.Annotations[AnnSelectedNode] = req.node
			_, err = s.client.CoreV1().PersistentVolumeClaims(req.ns).Update(ctx, c, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			return fmt.Errorf("binding volumes: %w", err)
		}
	}
	err := wait.PollUntilContextTimeout(ctx, volumePollInterval, bindTimeout, true, func(context.Context) (bool, error) {
		if _, err := s.podLister.Pods(req.ns).Get(req.name); apierrors.IsNotFound(err) {
			return false, err
		}
		for _, name := range strings.Split(req.claims, ",") {
			c, err := s.claimLister.PersistentVolumeClaims(req.ns).Get(name)
			if err != nil {
				return false, err
			}
			if c.Spec.VolumeName == "" || c.Annotations["pv.kubernetes.io/bind-completed"] == "" {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("binding volumes: %w", err)
	}
	return nil
}

func retryConflict(ctx context.Context, f func() error) error {
	for {
		err := f()
		if !apierrors.IsConflict(err) || ctx.Err() != nil {
			return err
		}
	}
}

// volumeChanged retries the pods that wait for a claim, volume or class.
func (s *Scheduler) volumeChanged(any) {
	s.mu.Lock()
	s.retryUnschedulableLocked()
	s.mu.Unlock()
}
