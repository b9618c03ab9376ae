package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metainternalversionvalidation "k8s.io/apimachinery/pkg/apis/meta/internalversion/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/stratus-cloud/stratus/internal/kube/registry"
)

// respond writes one object in the negotiated form (object, table row or metadata).
func (s *Server) respond(w http.ResponseWriter, r *http.Request, ri requestInfo, t target, code int, obj runtime.Object) {
	switch t.as {
	case "Table":
		if _, ok := obj.(*metav1.Status); ok {
			break
		}
		tbl, err := s.toTable(ri.res, []runtime.Object{obj}, t.version, r.URL.Query().Get("includeObject"), true)
		if err != nil {
			s.writeError(w, err)
			return
		}
		tbl.ResourceVersion = objMetaRV(obj)
		s.writeObject(w, t, code, tbl)
		return
	case "PartialObjectMetadata":
		s.writeObject(w, t, code, partial(obj, t.version))
		return
	case "PartialObjectMetadataList":
		s.writeError(w, newStatus(http.StatusNotAcceptable, metav1.StatusReasonNotAcceptable, "only PartialObjectMetadata may be requested for a single object"))
		return
	}
	if _, status := obj.(*metav1.Status); t.mediaType == mtJSON && !status {
		// The stored object's encoding is kept with it (Storage.JSON), so
		// the answer to a create or get is the one lists and watches of
		// the object send next, encoded once.
		data, err := s.storage.JSON(ri.res, obj, s.codecs.JSON)
		if err != nil {
			s.writeError(w, apierrors.NewInternalError(err))
			return
		}
		// Ended by a newline as the JSON encoder ends an object (a copy:
		// data is shared).
		writeRaw(w, mtJSON, code, append(data[:len(data):len(data)], '\n'))
		return
	}
	s.writeObject(w, target{mediaType: t.mediaType}, code, obj)
}

func objMetaRV(obj runtime.Object) string {
	m, err := meta.Accessor(obj)
	if err != nil {
		return ""
	}
	return m.GetResourceVersion()
}

func (s *Server) serveGet(w http.ResponseWriter, r *http.Request, ri requestInfo, t target) {
	if ri.subresource == "finalize" {
		s.writeError(w, newStatus(http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed, "the server does not allow this method on the requested resource"))
		return
	}
	obj, err := s.storage.Get(r.Context(), ri.res, ri.namespace, ri.name)
	if err != nil {
		s.writeError(w, err)
		return
	}
	s.respond(w, r, ri, t, http.StatusOK, obj)
}

// listOptions parses the list and watch query parameters.
func (s *Server) listOptions(r *http.Request, res *registry.Resource) (metav1.ListOptions, registry.Predicate, error) {
	var opts metav1.ListOptions
	if err := s.codecs.Params.DecodeParameters(r.URL.Query(), corev1.SchemeGroupVersion, &opts); err != nil {
		return opts, registry.Predicate{}, apierrors.NewBadRequest(err.Error())
	}
	if opts.Limit < 0 {
		opts.Limit = 0
	}
	p, err := predicateOf(res, opts)
	return opts, p, err
}

// predicateOf parses the label and field selectors of a list or watch.
func predicateOf(res *registry.Resource, opts metav1.ListOptions) (registry.Predicate, error) {
	var p registry.Predicate
	if opts.LabelSelector != "" {
		sel, err := labels.Parse(opts.LabelSelector)
		if err != nil {
			return p, apierrors.NewBadRequest(fmt.Sprintf("unable to parse requirement: %v", err))
		}
		p.Label = sel
	}
	if opts.FieldSelector != "" {
		sel, err := fields.ParseSelector(opts.FieldSelector)
		if err != nil {
			return p, apierrors.NewBadRequest(err.Error())
		}
		if err := registry.CheckFieldSelector(res, sel); err != nil {
			return p, err
		}
		p.Field = sel
	}
	return p, nil
}

func (s *Server) serveList(w http.ResponseWriter, r *http.Request, ri requestInfo, t target) {
	opts, pred, err := s.listOptions(r, ri.res)
	if err != nil {
		s.writeError(w, err)
		return
	}
	exact, err := s.checkListRV(r.Context(), opts)
	if err != nil {
		s.writeError(w, err)
		return
	}
	res, err := s.storage.ListAt(r.Context(), ri.res, ri.namespace, pred, opts.Limit, opts.Continue, exact)
	if err != nil {
		s.writeError(w, err)
		return
	}
	rv := strconv.FormatInt(res.Rev, 10)
	switch t.as {
	case "Table":
		tbl, err := s.toTable(ri.res, res.Items, t.version, r.URL.Query().Get("includeObject"), true)
		if err != nil {
			s.writeError(w, err)
			return
		}
		tbl.ResourceVersion, tbl.Continue, tbl.RemainingItemCount = rv, res.Continue, res.RemainingItemCount
		s.writeObject(w, t, http.StatusOK, tbl)
		return
	case "PartialObjectMetadataList", "PartialObjectMetadata":
		list := &metav1.PartialObjectMetadataList{TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/" + t.version, Kind: "PartialObjectMetadataList"}}
		list.ResourceVersion, list.Continue, list.RemainingItemCount = rv, res.Continue, res.RemainingItemCount
		for _, obj := range res.Items {
			list.Items = append(list.Items, *partial(obj, t.version))
		}
		s.writeObject(w, t, http.StatusOK, list)
		return
	}
	if t.mediaType == mtJSON {
		s.writeJSONList(w, ri.res, res, rv)
		return
	}
	list := ri.res.NewList()
	if err := meta.SetList(list, res.Items); err != nil {
		s.writeError(w, apierrors.NewInternalError(err))
		return
	}
	lm, _ := meta.ListAccessor(list)
	lm.SetResourceVersion(rv)
	lm.SetContinue(res.Continue)
	lm.SetRemainingItemCount(res.RemainingItemCount)
	list.GetObjectKind().SetGroupVersionKind(ri.res.GVK().GroupVersion().WithKind(ri.res.ListKind))
	s.writeObject(w, t, http.StatusOK, list)
}

// writeJSONList writes a JSON list from each item's cached encoding, so a
// list of 10,000 unchanged pods encodes none of them again.
func (s *Server) writeJSONList(w http.ResponseWriter, res *registry.Resource, lr registry.ListResult, rv string) {
	gv := res.GVK().GroupVersion().String()
	buf := make([]byte, 0, 256+len(lr.Items)*1024)
	buf = append(buf, `{"kind":`...)
	buf = strconv.AppendQuote(buf, res.ListKind)
	buf = append(buf, `,"apiVersion":`...)
	buf = strconv.AppendQuote(buf, gv)
	buf = append(buf, `,"metadata":{"resourceVersion":`...)
	buf = strconv.AppendQuote(buf, rv)
	if lr.Continue != "" {
		buf = append(buf, `,"continue":`...)
		buf = strconv.AppendQuote(buf, lr.Continue)
	}
	if lr.RemainingItemCount != nil {
		buf = append(buf, `,"remainingItemCount":`...)
		buf = strconv.AppendInt(buf, *lr.RemainingItemCount, 10)
	}
	buf = append(buf, `},"items":[`...)
	for i, obj := range lr.Items {
		if i > 0 {
			buf = append(buf, ',')
		}
		data, err := s.storage.JSON(res, obj, s.codecs.JSON)
		if err != nil {
			s.writeError(w, apierrors.NewInternalError(err))
			return
		}
		buf = append(buf, data...)
	}
	buf = append(buf, "]}\n"...)
	writeRaw(w, mtJSON, http.StatusOK, buf)
}

func (s *Server) serveCreate(w http.ResponseWriter, r *http.Request, ri requestInfo, t target) {
	o, err := s.parseWriteOpts(r, "create", "")
	if err != nil {
		s.writeError(w, err)
		return
	}
	data, err := readBody(w, r)
	if err != nil {
		s.writeError(w, err)
		return
	}
	obj, warnings, err := s.decodeObject(r.Header.Get("Content-Type"), data, ri.res, o.fieldValidation)
	if err != nil {
		s.writeError(w, err)
		return
	}
	m, _ := meta.Accessor(obj)
	if ri.res.Namespaced {
		if m.GetNamespace() == "" {
			m.SetNamespace(ri.namespace)
		} else if m.GetNamespace() != ri.namespace {
			s.writeError(w, apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request"))
			return
		}
	}
	if m.GetName() == "" && m.GetGenerateName() == "" {
		s.writeError(w, apierrors.NewInvalid(ri.res.GVK().GroupKind(), "", fieldRequired("metadata.name", "name or generateName is required")))
		return
	}
	wo := o.storage("")
	wo.Admission = s.admitter(w, r, ri, o.dryRun, o.fieldManager, nil)
	wo.Decoded = true
	out, err := s.storage.Create(r.Context(), ri.res, obj, wo)
	if err != nil {
		s.writeError(w, err)
		return
	}
	addWarnings(w, warnings)
	s.respond(w, r, ri, target{mediaType: t.mediaType}, http.StatusCreated, out)
}

func (s *Server) serveUpdate(w http.ResponseWriter, r *http.Request, ri requestInfo, t target) {
	o, err := s.parseWriteOpts(r, "update", "")
	if err != nil {
		s.writeError(w, err)
		return
	}
	data, err := readBody(w, r)
	if err != nil {
		s.writeError(w, err)
		return
	}
	obj, warnings, err := s.decodeObject(r.Header.Get("Content-Type"), data, ri.res, o.fieldValidation)
	if err != nil {
		s.writeError(w, err)
		return
	}
	m, _ := meta.Accessor(obj)
	if m.GetName() != ri.name {
		s.writeError(w, apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", m.GetName(), ri.name)))
		return
	}
	if ri.res.Namespaced {
		if m.GetNamespace() == "" {
			m.SetNamespace(ri.namespace)
		} else if m.GetNamespace() != ri.namespace {
			s.writeError(w, apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request"))
			return
		}
	}
	sub := ri.subresource
	wo := o.storage(sub)
	wo.Admission = s.admitter(w, r, ri, o.dryRun, o.fieldManager, nil)
	fn := func(cur runtime.Object) (runtime.Object, error) { return obj.DeepCopyObject(), nil }
	wo.ReadOnlyCurrent = true // the request's object replaces it
	wo.Decoded = true
	if sub == "finalize" {
		wo.ReadOnlyCurrent = false
		wo.Subresource = ""
		newNS := obj.(*corev1.Namespace)
		fn = func(cur runtime.Object) (runtime.Object, error) {
			ns := cur.(*corev1.Namespace)
			if rv := newNS.ResourceVersion; rv != "" {
				ns.ResourceVersion = rv
			}
			ns.Spec.Finalizers = newNS.Spec.Finalizers
			return ns, nil
		}
	}
	wo.CreateIfMissing = ri.res.AllowCreateOnUpdate && sub == ""
	out, created, err := s.storage.Update(r.Context(), ri.res, ri.namespace, ri.name, fn, wo)
	if err != nil {
		s.writeError(w, err)
		return
	}
	addWarnings(w, warnings)
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	s.respond(w, r, ri, target{mediaType: t.mediaType}, code, out)
}

// deleteOptions reads DeleteOptions as the real server does: from the body
// when there is one (JSON, YAML or protobuf; meta.k8s.io/v1 or the
// group's own version), else from the query through the parameter codec;
// then apimachinery's validation of DeleteOptions.
func (s *Server) deleteOptions(w http.ResponseWriter, r *http.Request) (*metav1.DeleteOptions, error) {
	opts := &metav1.DeleteOptions{}
	data, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	if len(data) > 0 {
		var dec runtime.Decoder
		switch {
		case len(data) > 4 && string(data[:4]) == "k8s\x00":
			dec = s.codecs.Protobuf
		default: // JSON is YAML too
			dec = s.codecs.YAML
		}
		gvk := metav1.SchemeGroupVersion.WithKind("DeleteOptions")
		obj, _, err := dec.Decode(data, &gvk, opts)
		if err != nil {
			return nil, apierrors.NewBadRequest(err.Error())
		}
		if obj != opts {
			return nil, apierrors.NewBadRequest("decoded object cannot be converted to DeleteOptions")
		}
	} else if err := s.codecs.Params.DecodeParameters(r.URL.Query(), metav1.SchemeGroupVersion, opts); err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	if errs := metav1validation.ValidateDeleteOptions(opts); len(errs) > 0 {
		return nil, apierrors.NewInvalid(schema.GroupKind{Group: metav1.GroupName, Kind: "DeleteOptions"}, "", errs)
	}
	if opts.GracePeriodSeconds != nil && *opts.GracePeriodSeconds < 0 {
		z := int64(1) // as the real server: a negative grace period is 1 s
		opts.GracePeriodSeconds = &z
	}
	return opts, nil
}

func (s *Server) serveDelete(w http.ResponseWriter, r *http.Request, ri requestInfo, t target) {
	opts, err := s.deleteOptions(w, r)
	if err != nil {
		s.writeError(w, err)
		return
	}
	res, err := s.storage.Delete(r.Context(), ri.res, ri.namespace, ri.name, opts,
		registry.WriteOptions{DryRun: len(opts.DryRun) > 0, Admission: s.admitter(w, r, ri, len(opts.DryRun) > 0, "", opts)})
	if err != nil {
		s.writeError(w, err)
		return
	}
	if res.Deleted && !ri.res.ReturnDeleted {
		m, _ := meta.Accessor(res.Obj)
		st := &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess,
			Details: &metav1.StatusDetails{Name: ri.name, Group: ri.res.Group, Kind: ri.res.Name, UID: m.GetUID()}}
		s.writeObject(w, target{mediaType: t.mediaType}, http.StatusOK, st)
		return
	}
	s.writeObject(w, target{mediaType: t.mediaType}, http.StatusOK, res.Obj)
}

func (s *Server) serveDeleteCollection(w http.ResponseWriter, r *http.Request, ri requestInfo, t target) {
	opts, err := s.deleteOptions(w, r)
	if err != nil {
		s.writeError(w, err)
		return
	}
	lo, pred, err := s.listOptions(r, ri.res)
	if err != nil {
		s.writeError(w, err)
		return
	}
	rev, err := s.checkListRV(r.Context(), lo)
	if err != nil {
		s.writeError(w, err)
		return
	}
	// As kube-apiserver: a limit asks for one page (from continue), not
	// the whole collection.
	lr, err := s.storage.ListAt(r.Context(), ri.res, ri.namespace, pred, lo.Limit, lo.Continue, rev)
	if err != nil {
		s.writeError(w, err)
		return
	}
	var done []runtime.Object
	for _, obj := range lr.Items {
		ns, name := registry.ObjectName(obj)
		ri := ri
		ri.namespace, ri.name = ns, name
		res, err := s.storage.Delete(r.Context(), ri.res, ns, name, opts,
			registry.WriteOptions{DryRun: len(opts.DryRun) > 0, Admission: s.admitter(w, r, ri, len(opts.DryRun) > 0, "", opts)})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			s.writeError(w, err)
			return
		}
		done = append(done, res.Obj)
	}
	list := ri.res.NewList()
	if err := meta.SetList(list, done); err != nil {
		s.writeError(w, apierrors.NewInternalError(err))
		return
	}
	list.GetObjectKind().SetGroupVersionKind(ri.res.GVK().GroupVersion().WithKind(ri.res.ListKind))
	s.writeObject(w, target{mediaType: t.mediaType}, http.StatusOK, list)
}

// rvWaitLimit is how long a list for a resourceVersion the store has not
// reached yet waits for it (the real server's watch cache waits 3 s).
const rvWaitLimit = 3 * time.Second

// checkListRV applies a list's resourceVersion and resourceVersionMatch as
// the real server does, and returns the revision to list at exactly (0:
// the newest). "" and "0" (and continuations, which carry their own) list
// the newest state; N (NotOlderThan) lists a state at least as new as N,
// waiting a little for the store to get there; Exact N, and N with a limit
// but no match (the legacy paging rule), list the state at N, which the
// store keeps as long as its history reaches back to N.
func (s *Server) checkListRV(ctx context.Context, opts metav1.ListOptions) (int64, error) {
	in := metainternalversion.ListOptions{ResourceVersion: opts.ResourceVersion,
		ResourceVersionMatch: opts.ResourceVersionMatch, Continue: opts.Continue, Limit: opts.Limit}
	if errs := metainternalversionvalidation.ValidateListOptions(&in, true); len(errs) > 0 {
		return 0, apierrors.NewInvalid(schema.GroupKind{Group: metav1.GroupName, Kind: "ListOptions"}, "", errs)
	}
	if opts.ResourceVersion == "" || opts.ResourceVersion == "0" || opts.Continue != "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(opts.ResourceVersion, 10, 64)
	if err != nil || n < 0 {
		return 0, apierrors.NewBadRequest(fmt.Sprintf("invalid resource version: %s", opts.ResourceVersion))
	}
	cur, err := s.opts.Store.Rev(ctx)
	if err != nil {
		return 0, err
	}
	if n > cur {
		deadline := time.Now().Add(rvWaitLimit)
		for n > cur && time.Now().Before(deadline) {
			select {
			case <-ctx.Done():
				return 0, ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
			if cur, err = s.opts.Store.Rev(ctx); err != nil {
				return 0, err
			}
		}
		if n > cur {
			return 0, tooLargeRV(n, cur)
		}
	}
	if opts.ResourceVersionMatch == metav1.ResourceVersionMatchExact ||
		(opts.ResourceVersionMatch == "" && opts.Limit > 0) {
		return n, nil
	}
	return 0, nil
}

// tooLargeRV is the real server's answer to a list for a resourceVersion it
// has not reached: 504 with a ResourceVersionTooLarge cause, which client-go
// reflectors recognise and retry.
func tooLargeRV(want, cur int64) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: http.StatusGatewayTimeout,
		Reason:  metav1.StatusReasonTimeout,
		Message: fmt.Sprintf("Timeout: Too large resource version: %d, current: %d", want, cur),
		Details: &metav1.StatusDetails{RetryAfterSeconds: 1,
			Causes: []metav1.StatusCause{{Type: metav1.CauseTypeResourceVersionTooLarge, Message: "Too large resource version"}}}}}
}
