package registry

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// The workload kinds beyond Deployment and ReplicaSet: StatefulSet,
// DaemonSet, ControllerRevision (apps/v1), Job and CronJob (batch/v1).

func statefulSets() *Resource {
	r := declare[appsv1.StatefulSet, appsv1.StatefulSetList]("apps", "v1", "statefulsets", "StatefulSet", true).withStatus("scale")
	r.ShortNames, r.Categories = []string{"sts"}, all
	r.Columns, r.Row = stsColumns, stsRow
	r.Validate = validateStatefulSet
	r.Scale = &ScaleAccess{
		Get: func(obj runtime.Object) (int32, int32, string) {
			s := obj.(*appsv1.StatefulSet)
			return deref(s.Spec.Replicas, 1), s.Status.Replicas, selectorString(s.Spec.Selector)
		},
		Set: func(obj runtime.Object, n int32) { obj.(*appsv1.StatefulSet).Spec.Replicas = &n },
	}
	return r
}

func daemonSets() *Resource {
	r := declare[appsv1.DaemonSet, appsv1.DaemonSetList]("apps", "v1", "daemonsets", "DaemonSet", true).withStatus()
	r.ShortNames, r.Categories = []string{"ds"}, all
	r.Columns, r.Row = dsColumns, dsRow
	r.Validate = validateDaemonSet
	return r
}

func controllerRevisions() *Resource {
	r := declare[appsv1.ControllerRevision, appsv1.ControllerRevisionList]("apps", "v1", "controllerrevisions", "ControllerRevision", true)
	r.Columns, r.Row = revisionColumns, revisionRow
	r.Validate = func(obj, old runtime.Object) field.ErrorList {
		cr := obj.(*appsv1.ControllerRevision)
		var errs field.ErrorList
		if cr.Revision < 0 {
			errs = append(errs, field.Invalid(field.NewPath("revision"), cr.Revision, "must be greater than or equal to 0"))
		}
		if old != nil && !apiequality.Semantic.DeepEqual(cr.Data, old.(*appsv1.ControllerRevision).Data) {
			errs = append(errs, field.Invalid(field.NewPath("data"), cr.Data, "field is immutable"))
		}
		return errs
	}
	return r
}

func jobs() *Resource {
	r := declare[batchv1.Job, batchv1.JobList]("batch", "v1", "jobs", "Job", true).withStatus()
	r.Categories = all
	r.Columns, r.Row = jobColumns, jobRow
	r.PrepareForCreate = func(obj runtime.Object) { generateJobSelector(obj.(*batchv1.Job)) }
	r.Validate = validateJob
	r.Fields = jobFields
	return r
}

func cronJobs() *Resource {
	r := declare[batchv1.CronJob, batchv1.CronJobList]("batch", "v1", "cronjobs", "CronJob", true).withStatus()
	r.ShortNames, r.Categories = []string{"cj"}, all
	r.Columns, r.Row = cronJobColumns, cronJobRow
	r.Validate = validateCronJob
	return r
}

// ---- defaulting (as k8s.io/kubernetes/pkg/apis/{apps,batch}/v1 default)

func defaultStatefulSet(s *appsv1.StatefulSet) {
	if s.Spec.Replicas == nil {
		s.Spec.Replicas = ptr.To(int32(1))
	}
	if s.Spec.PodManagementPolicy == "" {
		s.Spec.PodManagementPolicy = appsv1.OrderedReadyPodManagement
	}
	if s.Spec.UpdateStrategy.Type == "" {
		s.Spec.UpdateStrategy.Type = appsv1.RollingUpdateStatefulSetStrategyType
	}
	if s.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType {
		if s.Spec.UpdateStrategy.RollingUpdate == nil {
			s.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{}
		}
		if s.Spec.UpdateStrategy.RollingUpdate.Partition == nil {
			s.Spec.UpdateStrategy.RollingUpdate.Partition = ptr.To(int32(0))
		}
	}
	if s.Spec.PersistentVolumeClaimRetentionPolicy == nil {
		s.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{}
	}
	if p := s.Spec.PersistentVolumeClaimRetentionPolicy; p.WhenDeleted == "" {
		p.WhenDeleted = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if p := s.Spec.PersistentVolumeClaimRetentionPolicy; p.WhenScaled == "" {
		p.WhenScaled = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if s.Spec.RevisionHistoryLimit == nil {
		s.Spec.RevisionHistoryLimit = ptr.To(int32(10))
	}
	for i := range s.Spec.VolumeClaimTemplates {
		defaultPVC(&s.Spec.VolumeClaimTemplates[i])
	}
	defaultPodSpec(&s.Spec.Template.Spec)
}

func defaultDaemonSet(d *appsv1.DaemonSet) {
	if d.Spec.UpdateStrategy.Type == "" {
		d.Spec.UpdateStrategy.Type = appsv1.RollingUpdateDaemonSetStrategyType
	}
	if d.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		if d.Spec.UpdateStrategy.RollingUpdate == nil {
			d.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{}
		}
		if d.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable == nil {
			d.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromInt32(1))
		}
		if d.Spec.UpdateStrategy.RollingUpdate.MaxSurge == nil {
			d.Spec.UpdateStrategy.RollingUpdate.MaxSurge = ptr.To(intstr.FromInt32(0))
		}
	}
	if d.Spec.RevisionHistoryLimit == nil {
		d.Spec.RevisionHistoryLimit = ptr.To(int32(10))
	}
	defaultPodSpec(&d.Spec.Template.Spec)
}

func defaultJobSpec(s *batchv1.JobSpec) {
	if s.Completions == nil && s.Parallelism == nil {
		s.Completions = ptr.To(int32(1))
	}
	if s.Parallelism == nil {
		s.Parallelism = ptr.To(int32(1))
	}
	if s.BackoffLimit == nil {
		if s.BackoffLimitPerIndex != nil {
			s.BackoffLimit = ptr.To(int32(2147483647))
		} else {
			s.BackoffLimit = ptr.To(int32(6))
		}
	}
	if s.CompletionMode == nil {
		s.CompletionMode = ptr.To(batchv1.NonIndexedCompletion)
	}
	if s.Suspend == nil {
		s.Suspend = ptr.To(false)
	}
	if s.PodReplacementPolicy == nil {
		if s.PodFailurePolicy != nil {
			s.PodReplacementPolicy = ptr.To(batchv1.Failed)
		} else {
			s.PodReplacementPolicy = ptr.To(batchv1.TerminatingOrFailed)
		}
	}
	if s.ManualSelector == nil {
		s.ManualSelector = ptr.To(false)
	}
	defaultPodSpec(&s.Template.Spec)
}

func defaultCronJob(c *batchv1.CronJob) {
	if c.Spec.ConcurrencyPolicy == "" {
		c.Spec.ConcurrencyPolicy = batchv1.AllowConcurrent
	}
	if c.Spec.Suspend == nil {
		c.Spec.Suspend = ptr.To(false)
	}
	if c.Spec.SuccessfulJobsHistoryLimit == nil {
		c.Spec.SuccessfulJobsHistoryLimit = ptr.To(int32(3))
	}
	if c.Spec.FailedJobsHistoryLimit == nil {
		c.Spec.FailedJobsHistoryLimit = ptr.To(int32(1))
	}
	defaultJobSpec(&c.Spec.JobTemplate.Spec)
}

// Labels the job controller's pods carry (and the generated selector).
const (
	jobControllerUID    = "batch.kubernetes.io/controller-uid"
	jobName             = "batch.kubernetes.io/job-name"
	legacyControllerUID = "controller-uid"
	legacyJobName       = "job-name"
)

// generateJobSelector selects the job's pods by its uid unless the user
// chose the selector (manualSelector), as the real server does.
func generateJobSelector(j *batchv1.Job) {
	if j.Spec.ManualSelector != nil && *j.Spec.ManualSelector {
		return
	}
	uid := string(j.UID)
	if j.Spec.Template.Labels == nil {
		j.Spec.Template.Labels = map[string]string{}
	}
	for k, v := range map[string]string{jobControllerUID: uid, legacyControllerUID: uid, jobName: j.Name, legacyJobName: j.Name} {
		if _, ok := j.Spec.Template.Labels[k]; !ok {
			j.Spec.Template.Labels[k] = v
		}
	}
	if j.Spec.Selector == nil {
		j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{jobControllerUID: uid}}
	}
}

// ---- validation (the real rules and messages, for the fields users set)

func validateSelectorFor(kind string, sel *metav1.LabelSelector, p *field.Path) (labels.Selector, field.ErrorList) {
	s, errs := validateLabelSelector(sel, p)
	for i := range errs {
		errs[i].Detail = strings.Replace(errs[i].Detail, "for deployment", "for "+kind, 1)
	}
	return s, errs
}

func validateStatefulSet(obj, old runtime.Object) field.ErrorList {
	s := obj.(*appsv1.StatefulSet)
	sp := field.NewPath("spec")
	sel, errs := validateSelectorFor("statefulset", s.Spec.Selector, sp.Child("selector"))
	errs = append(errs, validateReplicas(s.Spec.Replicas, sp.Child("replicas"))...)
	// Containers may mount the claims of volumeClaimTemplates: the pods
	// get them as volumes.
	tpl := &s.Spec.Template
	if len(s.Spec.VolumeClaimTemplates) > 0 {
		tpl = tpl.DeepCopy()
		for _, c := range s.Spec.VolumeClaimTemplates {
			tpl.Spec.Volumes = append(tpl.Spec.Volumes, corev1.Volume{Name: c.Name,
				VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: c.Name}}})
		}
	}
	errs = append(errs, validateTemplate(sel, tpl, sp.Child("template"))...)
	errs = append(errs, onlyAlways(&s.Spec.Template.Spec, sp)...)
	switch s.Spec.PodManagementPolicy {
	case appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement:
	default:
		errs = append(errs, field.Invalid(sp.Child("podManagementPolicy"), s.Spec.PodManagementPolicy,
			fmt.Sprintf("must be '%s' or '%s'", appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement)))
	}
	switch s.Spec.UpdateStrategy.Type {
	case appsv1.RollingUpdateStatefulSetStrategyType, appsv1.OnDeleteStatefulSetStrategyType:
	default:
		errs = append(errs, field.Invalid(sp.Child("updateStrategy"), s.Spec.UpdateStrategy,
			fmt.Sprintf("must be '%s' or '%s'", appsv1.RollingUpdateStatefulSetStrategyType, appsv1.OnDeleteStatefulSetStrategyType)))
	}
	if ru := s.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*ru.Partition), sp.Child("updateStrategy", "rollingUpdate", "partition"))...)
	}
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(s.Spec.MinReadySeconds), sp.Child("minReadySeconds"))...)
	if old != nil {
		o := old.(*appsv1.StatefulSet).Spec.DeepCopy()
		n := s.Spec.DeepCopy()
		// What may change; everything else is fixed at creation.
		o.Replicas, o.Template, o.UpdateStrategy, o.MinReadySeconds, o.PersistentVolumeClaimRetentionPolicy, o.Ordinals =
			n.Replicas, n.Template, n.UpdateStrategy, n.MinReadySeconds, n.PersistentVolumeClaimRetentionPolicy, n.Ordinals
		if !apiequality.Semantic.DeepEqual(o, n) {
			errs = append(errs, field.Forbidden(sp, "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"))
		}
	}
	return errs
}

func validateDaemonSet(obj, old runtime.Object) field.ErrorList {
	d := obj.(*appsv1.DaemonSet)
	sp := field.NewPath("spec")
	sel, errs := validateSelectorFor("daemonset", d.Spec.Selector, sp.Child("selector"))
	errs = append(errs, validateTemplate(sel, &d.Spec.Template, sp.Child("template"))...)
	errs = append(errs, onlyAlways(&d.Spec.Template.Spec, sp)...)
	switch d.Spec.UpdateStrategy.Type {
	case appsv1.RollingUpdateDaemonSetStrategyType, appsv1.OnDeleteDaemonSetStrategyType:
	default:
		errs = append(errs, field.NotSupported(sp.Child("updateStrategy", "type"), d.Spec.UpdateStrategy.Type,
			[]string{string(appsv1.OnDeleteDaemonSetStrategyType), string(appsv1.RollingUpdateDaemonSetStrategyType)}))
	}
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(d.Spec.MinReadySeconds), sp.Child("minReadySeconds"))...)
	if old != nil && !apiequalSelector(d.Spec.Selector, old.(*appsv1.DaemonSet).Spec.Selector) {
		errs = append(errs, field.Invalid(sp.Child("selector"), d.Spec.Selector, "field is immutable"))
	}
	return errs
}

// onlyAlways is the apps kinds' rule on the template's restart policy.
func onlyAlways(s *corev1.PodSpec, sp *field.Path) field.ErrorList {
	if s.RestartPolicy != corev1.RestartPolicyAlways {
		return field.ErrorList{field.NotSupported(sp.Child("template", "spec", "restartPolicy"), s.RestartPolicy, []string{string(corev1.RestartPolicyAlways)})}
	}
	return nil
}

func validateJobSpec(s *batchv1.JobSpec, sp *field.Path, generated bool) field.ErrorList {
	var errs field.ErrorList
	for name, v := range map[string]*int32{"parallelism": s.Parallelism, "completions": s.Completions, "backoffLimit": s.BackoffLimit} {
		if v != nil {
			errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*v), sp.Child(name))...)
		}
	}
	if s.ActiveDeadlineSeconds != nil && *s.ActiveDeadlineSeconds <= 0 {
		errs = append(errs, field.Invalid(sp.Child("activeDeadlineSeconds"), *s.ActiveDeadlineSeconds, "must be greater than 0"))
	}
	if s.TTLSecondsAfterFinished != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*s.TTLSecondsAfterFinished), sp.Child("ttlSecondsAfterFinished"))...)
	}
	if s.CompletionMode != nil {
		switch *s.CompletionMode {
		case batchv1.NonIndexedCompletion:
		case batchv1.IndexedCompletion:
			if s.Completions == nil {
				errs = append(errs, field.Required(sp.Child("completions"), fmt.Sprintf("when completion mode is %s", batchv1.IndexedCompletion)))
			}
		default:
			errs = append(errs, field.NotSupported(sp.Child("completionMode"), *s.CompletionMode, []string{string(batchv1.NonIndexedCompletion), string(batchv1.IndexedCompletion)}))
		}
	}
	var sel labels.Selector
	if s.Selector == nil {
		if !generated {
			errs = append(errs, field.Required(sp.Child("selector"), ""))
		}
	} else {
		var serrs field.ErrorList
		sel, serrs = validateSelectorFor("job", s.Selector, sp.Child("selector"))
		errs = append(errs, serrs...)
	}
	errs = append(errs, validateTemplate(sel, &s.Template, sp.Child("template"))...)
	switch rp := s.Template.Spec.RestartPolicy; rp {
	case corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever:
	case corev1.RestartPolicyAlways, "":
		errs = append(errs, field.Required(sp.Child("template", "spec", "restartPolicy"),
			fmt.Sprintf("valid values: %q, %q", corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever)))
	default:
		errs = append(errs, field.NotSupported(sp.Child("template", "spec", "restartPolicy"), rp, []string{string(corev1.RestartPolicyOnFailure), string(corev1.RestartPolicyNever)}))
	}
	return errs
}

func validateJob(obj, old runtime.Object) field.ErrorList {
	j := obj.(*batchv1.Job)
	sp := field.NewPath("spec")
	errs := validateJobSpec(&j.Spec, sp, false)
	if old != nil {
		o := old.(*batchv1.Job)
		if !apiequality.Semantic.DeepEqual(j.Spec.Selector, o.Spec.Selector) {
			errs = append(errs, field.Invalid(sp.Child("selector"), j.Spec.Selector, "field is immutable"))
		}
		if !apiequality.Semantic.DeepEqual(j.Spec.Completions, o.Spec.Completions) && (j.Spec.CompletionMode == nil || *j.Spec.CompletionMode != batchv1.IndexedCompletion) {
			errs = append(errs, field.Invalid(sp.Child("completions"), j.Spec.Completions, "field is immutable"))
		}
		if !apiequality.Semantic.DeepEqual(j.Spec.CompletionMode, o.Spec.CompletionMode) {
			errs = append(errs, field.Invalid(sp.Child("completionMode"), j.Spec.CompletionMode, "field is immutable"))
		}
		if !apiequality.Semantic.DeepEqual(j.Spec.Template.Spec, o.Spec.Template.Spec) && (o.Spec.Suspend == nil || !*o.Spec.Suspend) {
			errs = append(errs, field.Invalid(sp.Child("template"), j.Spec.Template, "field is immutable"))
		}
	}
	return errs
}

func validateCronJob(obj, _ runtime.Object) field.ErrorList {
	c := obj.(*batchv1.CronJob)
	sp := field.NewPath("spec")
	var errs field.ErrorList
	if len(c.Name) > 52 {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), c.Name, "must be no more than 52 characters"))
	}
	if c.Spec.Schedule == "" {
		errs = append(errs, field.Required(sp.Child("schedule"), ""))
	} else if strings.Contains(c.Spec.Schedule, "TZ") {
		errs = append(errs, field.Invalid(sp.Child("schedule"), c.Spec.Schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
	} else if _, err := cron.ParseStandard(c.Spec.Schedule); err != nil {
		errs = append(errs, field.Invalid(sp.Child("schedule"), c.Spec.Schedule, err.Error()))
	}
	if tz := c.Spec.TimeZone; tz != nil {
		if _, err := time.LoadLocation(*tz); err != nil || *tz == "" || strings.EqualFold(*tz, "local") {
			errs = append(errs, field.Invalid(sp.Child("timeZone"), *tz, "unknown time zone "+*tz))
		}
	}
	switch c.Spec.ConcurrencyPolicy {
	case batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent:
	default:
		errs = append(errs, field.NotSupported(sp.Child("concurrencyPolicy"), c.Spec.ConcurrencyPolicy,
			[]string{string(batchv1.AllowConcurrent), string(batchv1.ForbidConcurrent), string(batchv1.ReplaceConcurrent)}))
	}
	if d := c.Spec.StartingDeadlineSeconds; d != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(*d, sp.Child("startingDeadlineSeconds"))...)
	}
	errs = append(errs, validateJobSpec(&c.Spec.JobTemplate.Spec, sp.Child("jobTemplate", "spec"), true)...)
	return errs
}

// ---- tables (the real server's columns)

var (
	containersCol = col("Containers", "string", "Names of each container in the template.", 1)
	imagesCol     = col("Images", "string", "Images referenced by each container in the template.", 1)
	selectorCol   = col("Selector", "string", "Label selector for pods.", 1)
)

var stsColumns = []metav1.TableColumnDefinition{
	nameCol(), col("Ready", "string", "Number of the pod with ready state", 0), ageCol(), containersCol, imagesCol,
}

func stsRow(obj runtime.Object, now time.Time) []interface{} {
	s := obj.(*appsv1.StatefulSet)
	cs, is := containersImages(&s.Spec.Template.Spec)
	return []interface{}{s.Name, fmt.Sprintf("%d/%d", s.Status.ReadyReplicas, deref(s.Spec.Replicas, 1)), Age(s.CreationTimestamp, now), cs, is}
}

var dsColumns = []metav1.TableColumnDefinition{
	nameCol(),
	col("Desired", "integer", "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod).", 0),
	col("Current", "integer", "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.", 0),
	col("Ready", "integer", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.", 0),
	col("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod", 0),
	col("Available", "integer", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)", 0),
	col("Node Selector", "string", "NodeSelector is a selector which must be true for the pod to fit on a node.", 0),
	ageCol(), containersCol, imagesCol, selectorCol,
}

func dsRow(obj runtime.Object, now time.Time) []interface{} {
	d := obj.(*appsv1.DaemonSet)
	cs, is := containersImages(&d.Spec.Template.Spec)
	st := d.Status
	return []interface{}{d.Name, int64(st.DesiredNumberScheduled), int64(st.CurrentNumberScheduled), int64(st.NumberReady),
		int64(st.UpdatedNumberScheduled), int64(st.NumberAvailable), labels.FormatLabels(d.Spec.Template.Spec.NodeSelector),
		Age(d.CreationTimestamp, now), cs, is, metav1.FormatLabelSelector(d.Spec.Selector)}
}

func orNone(s string, n int) string {
	if n == 0 {
		return none
	}
	return s
}

var revisionColumns = []metav1.TableColumnDefinition{
	nameCol(),
	col("Controller", "string", "Controller of the object", 0),
	col("Revision", "integer", "Revision indicates the revision of the state represented by Data.", 0),
	ageCol(),
}

func revisionRow(obj runtime.Object, now time.Time) []interface{} {
	cr := obj.(*appsv1.ControllerRevision)
	ctrl := none
	if ref := metav1.GetControllerOf(cr); ref != nil {
		gv, _ := schema.ParseGroupVersion(ref.APIVersion)
		ctrl = strings.ToLower(gv.WithKind(ref.Kind).GroupKind().String()) + "/" + ref.Name
	}
	return []interface{}{cr.Name, ctrl, cr.Revision, Age(cr.CreationTimestamp, now)}
}

var jobColumns = []metav1.TableColumnDefinition{
	nameCol(),
	col("Status", "string", "Status of the job.", 0),
	col("Completions", "string", "The completed job pods and the desired ones.", 0),
	col("Duration", "string", "Time required to complete the job.", 0),
	ageCol(), containersCol, imagesCol, selectorCol,
}

func jobCondition(cs []batchv1.JobCondition, t batchv1.JobConditionType) bool {
	for _, c := range cs {
		if c.Type == t && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

func jobRow(obj runtime.Object, now time.Time) []interface{} {
	j := obj.(*batchv1.Job)
	cs, is := containersImages(&j.Spec.Template.Spec)
	var completions string
	switch par := deref(j.Spec.Parallelism, 0); {
	case j.Spec.Completions != nil:
		completions = fmt.Sprintf("%d/%d", j.Status.Succeeded, *j.Spec.Completions)
	case par > 1:
		completions = fmt.Sprintf("%d/1 of %d", j.Status.Succeeded, par)
	default:
		completions = fmt.Sprintf("%d/1", j.Status.Succeeded)
	}
	var dur string
	switch {
	case j.Status.StartTime == nil:
	case j.Status.CompletionTime == nil:
		dur = duration.HumanDuration(now.Sub(j.Status.StartTime.Time))
	default:
		dur = duration.HumanDuration(j.Status.CompletionTime.Sub(j.Status.StartTime.Time))
	}
	status := "Running"
	switch c := j.Status.Conditions; {
	case jobCondition(c, batchv1.JobComplete):
		status = "Complete"
	case jobCondition(c, batchv1.JobFailed):
		status = "Failed"
	case j.DeletionTimestamp != nil:
		status = "Terminating"
	case jobCondition(c, batchv1.JobSuspended):
		status = "Suspended"
	case jobCondition(c, batchv1.JobFailureTarget):
		status = "FailureTarget"
	case jobCondition(c, batchv1.JobSuccessCriteriaMet):
		status = "SuccessCriteriaMet"
	}
	return []interface{}{j.Name, status, completions, dur, Age(j.CreationTimestamp, now), cs, is, metav1.FormatLabelSelector(j.Spec.Selector)}
}

var cronJobColumns = []metav1.TableColumnDefinition{
	nameCol(),
	col("Schedule", "string", "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.", 0),
	col("Timezone", "string", "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.", 0),
	col("Suspend", "boolean", "This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false.", 0),
	col("Active", "integer", "A list of pointers to currently running jobs.", 0),
	col("Last Schedule", "string", "Information when was the last time the job was successfully scheduled.", 0),
	ageCol(), containersCol, imagesCol, selectorCol,
}

func cronJobRow(obj runtime.Object, now time.Time) []interface{} {
	c := obj.(*batchv1.CronJob)
	cs, is := containersImages(&c.Spec.JobTemplate.Spec.Template.Spec)
	last := none
	if c.Status.LastScheduleTime != nil {
		last = Age(*c.Status.LastScheduleTime, now)
	}
	tz := none
	if c.Spec.TimeZone != nil {
		tz = *c.Spec.TimeZone
	}
	suspend := c.Spec.Suspend != nil && *c.Spec.Suspend
	return []interface{}{c.Name, c.Spec.Schedule, tz, suspend, int64(len(c.Status.Active)), last, Age(c.CreationTimestamp, now),
		cs, is, metav1.FormatLabelSelector(c.Spec.JobTemplate.Spec.Selector)}
}

// jobFields are the fields a job list selects on.
func jobFields(obj runtime.Object, s fields.Set) {
	s["status.successful"] = itoa(obj.(*batchv1.Job).Status.Succeeded)
}
