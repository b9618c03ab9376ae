// Package marathon serves the Marathon REST v2 API and the Mesos master's
// read-only endpoints on stratus's Kubernetes cluster. It is a client of the
// Kubernetes API, like the controllers and the dashboard: one scheduler and
// one set of nodes serve both APIs, and kubectl sees what Marathon clients
// create.
//
// The mapping, in namespace "marathon" (Namespace):
//
//   - an app (id "/g/worker") is a Deployment named by its path segments
//     joined with dots ("g.worker"); its pods carry the label
//     marathon.stratus.io/app (a hash of the id) and its Marathon JSON is
//     kept in the Deployment's annotation marathon.stratus.io/app;
//   - every version of an app is a key of the ConfigMap of the same name;
//   - a task is a pod: id "g_worker.instance-<pod uid>", host its node (the
//     task's ipAddresses hold the pod IP where its ports answer);
//   - a failed task is launched again (its container restarted) when its
//     app's launch delay has passed (delay.go): the server opens the
//     pod's restart gate, which the node agent honours;
//   - a Marathon deployment is kept, until its last step has rolled out, in
//     a ConfigMap "deployment-<id>" labelled marathon.stratus.io/deployment
//     (persist.go): written before its first change, updated per step and
//     taken up again by the next start, so a restart loses no acknowledged
//     deployment and leaves none half done.
//
// Groups are derived from the apps' ids. Errors are written as Marathon
// writes them (errors.go); nothing is served without the HTTP basic
// credentials kept in the data dir (auth.go).
package marathon
