// Package gce is stratus's Google Compute Engine v1 API: a gateway that
// serves /compute/v1/projects/{project}/… and the multipart
// /batch/compute/v1 the way gcloud and Google's client libraries expect,
// and translates each call into calls of the Apache CloudStack API (what
// gstack did). It talks to CloudStack only through that public API, over
// any http.Client, so it works in front of the embedded simulator and of
// any real CloudStack.
//
// Mapping: a project is a CloudStack account; zones are zones, regions are
// derived from zone names; machine types are service offerings; images
// are templates, sorted into the public image projects (debian-cloud,
// ubuntu-os-cloud, …) by OS type; firewalls are security groups and their
// rules; instances are virtual machines; disks are volumes; project
// ssh-keys metadata are SSH key pairs; operations track CloudStack async
// jobs. What CloudStack cannot hold (labels, metadata other than
// user-data, network tags, firewall priority and target tags, deletion
// protection, scheduling, instance templates, managed instance groups,
// operation records, tokens) lives in the store under /gce/.
//
// Authentication: every request carries a bearer token that the gateway
// maps to a CloudStack key pair (tokens come from /oauth2/token with the
// key pair as client credentials, or from IssueToken); a token reaches
// only its own project.
package gce
