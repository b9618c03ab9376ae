// Package cloudstack serves the Apache CloudStack API (/client/api) on the
// simulated cloud of package cloud, the way real CloudStack clients expect
// it: query and form parameters merged as the servlet does, API key with
// HMAC-SHA1 signatures (and signature version 3) or session login, JSON and
// XML envelopes, CloudStack's error codes and texts, async jobs.
//
// One Handler serves every command; each command is a small declaration
// (name, async, parameters, response) and a function from parameters to a
// cloud operation. The declarations are also what listApis answers, so the
// metadata clients such as cmk sync from is exactly what is implemented.
package cloudstack
