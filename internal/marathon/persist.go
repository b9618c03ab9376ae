package marathon

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A deployment is kept, until it has finished, in a ConfigMap of the
// marathon namespace labelled LabelDeployment, so that one acknowledged is
// finished after a restart and keeps its apps locked meanwhile.
const (
	LabelDeployment = "marathon.stratus.io/deployment" // the deployment id
	planKey         = "plan"
)

// deploymentName is the ConfigMap holding a deployment; an app's versions
// would meet it only for an app named "deployment-" and this very UUID.
func deploymentName(id string) string { return "deployment-" + id }

// storedPlan is a deployment as its ConfigMap holds it: the steps with
// the apps they lead to.
type storedPlan struct {
	ID      string       `json:"id"`
	Version string       `json:"version"`
	Started time.Time    `json:"started"`
	Current int          `json:"current"`
	Steps   []storedStep `json:"steps"`
}

type storedStep struct {
	Changes []storedChange `json:"changes"`
}

// storedChange is one app's change: to App (nil: stopped).
type storedChange struct {
	ID     string   `json:"id"`
	Action string   `json:"action"`
	Create bool     `json:"create,omitempty"`
	App    *App     `json:"app,omitempty"`
	Kill   []string `json:"kill,omitempty"`
}

func (d *deployment) record() storedPlan {
	p := storedPlan{ID: d.ID, Version: d.Version, Started: d.started, Current: d.Current}
	for _, st := range d.Steps {
		var ss storedStep
		for _, c := range st.changes {
			ss.Changes = append(ss.Changes, storedChange{ID: c.appID(), Action: c.action, Create: c.old == nil, App: c.new, Kill: c.kill})
		}
		p.Steps = append(p.Steps, ss)
	}
	return p
}

// restored is the deployment a stored plan describes.
func (p storedPlan) restored() *deployment {
	d := &deployment{ID: p.ID, Version: p.Version, Current: p.Current, started: p.Started}
	for _, ss := range p.Steps {
		var st step
		for _, sc := range ss.Changes {
			c := change{new: sc.App, action: sc.Action, kill: sc.Kill}
			if !sc.Create {
				c.old = &App{ID: sc.ID} // apply needs only to know it existed
			}
			st.changes = append(st.changes, c)
			st.Actions = append(st.Actions, action{Action: sc.Action, App: sc.ID})
		}
		d.Steps = append(d.Steps, st)
	}
	return d
}

// persist writes the deployment's ConfigMap (s.mu held).
func (s *Server) persist(ctx context.Context, d *deployment) error {
	b, err := json.Marshal(d.record())
	if err != nil {
		return err
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: deploymentName(d.ID), Namespace: Namespace,
		Labels: map[string]string{LabelDeployment: d.ID, managedBy: "marathon"}},
		Data: map[string]string{planKey: string(b)}}
	cms := s.kc.CoreV1().ConfigMaps(Namespace)
	if d.stored {
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
	} else {
		_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
	}
	if err != nil {
		return fmt.Errorf("store deployment %s: %w", d.ID, err)
	}
	d.stored = true
	return nil
}

// unpersist deletes the deployment's ConfigMap (s.mu held). The context
// may be a request's that has ended: the delete must still happen, or
// the plan would come back at the next start.
func (s *Server) unpersist(ctx context.Context, d *deployment) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	err := s.kc.CoreV1().ConfigMaps(Namespace).Delete(ctx, deploymentName(d.ID), metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		s.log.Warn("marathon: delete stored deployment", "deployment", d.ID, "err", err)
	}
}

// resume takes up the deployments stored by an earlier run: each applies
// its current step again (a step applied twice changes nothing the second
// time) and is tracked to its end. A plan some app has moved past (a
// later version, written while its ConfigMap could not be deleted) is
// stale and dropped.
func (s *Server) resume(ctx context.Context) error {
	list, err := s.kc.CoreV1().ConfigMaps(Namespace).List(ctx, metav1.ListOptions{LabelSelector: LabelDeployment})
	if err != nil {
		return fmt.Errorf("marathon: list stored deployments: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range list.Items {
		cm := &list.Items[i]
		var p storedPlan
		if err := json.Unmarshal([]byte(cm.Data[planKey]), &p); err != nil || p.ID == "" || p.Current < 0 || p.Current >= len(p.Steps) {
			s.log.Warn("marathon: unreadable stored deployment, dropped", "configmap", cm.Name, "err", err)
			_ = s.kc.CoreV1().ConfigMaps(Namespace).Delete(ctx, cm.Name, metav1.DeleteOptions{})
			continue
		}
		d := p.restored()
		d.stored = true
		if s.stale(d) {
			s.log.Info("marathon: stored deployment overtaken, dropped", "deployment", d.ID)
			s.unpersist(ctx, d)
			continue
		}
		if err := s.applyStep(ctx, d.Steps[d.Current]); err != nil {
			s.log.Warn("marathon: resumed deployment failed", "deployment", d.ID, "err", err)
			s.unpersist(ctx, d)
			continue
		}
		s.log.Info("marathon: deployment resumed", "deployment", d.ID, "step", d.Current+1, "of", len(d.Steps))
		s.begin(d)
	}
	return nil
}

// stale reports whether an app of the deployment has a version later
// than the deployment's.
func (s *Server) stale(d *deployment) bool {
	for _, st := range d.Steps {
		for _, a := range st.Actions {
			if cur := s.app(a.App); cur != nil && cur.Version > d.Version {
				return true
			}
		}
	}
	return false
}

// applyStep writes a step's changes to the Kubernetes API.
func (s *Server) applyStep(ctx context.Context, st step) error {
	for _, c := range st.changes {
		if err := s.apply(ctx, c); err != nil {
			return err
		}
	}
	return nil
}
