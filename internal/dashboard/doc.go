// Package dashboard is stratus's web UI, served at /client/ next to the
// CloudStack API (/client/api), the way CloudStack users expect to find it.
//
// The dashboard is a client of the public APIs, not of the simulator's
// internals: a person logs in with a CloudStack user (the dashboard calls
// the API's session login in-process and keeps the CloudStack session key
// behind its own session cookie), and every page is built from CloudStack
// calls made as that user, so a user sees exactly what the API lets them
// see. The Kubernetes views use a client-go kubernetes.Interface and are
// shown to root administrators only.
//
// Pages are server-rendered with html/template from assets embedded in the
// binary. Each page has one live region; the browser keeps a server-sent
// events stream open, and whenever the cloud's change feed moves or the
// Kubernetes API's watches of the kinds shown report a change (coalesced
// to a few refreshes a second) the dashboard renders that region again
// through the APIs and pushes it, and a few lines of hand-written
// JavaScript swap it in. Plots are inline SVG rendered on the
// server.
package dashboard
