package cloudstack

import (
	_ "embed"
	"strings"
)

// referenceAPIs is the list of CloudStack 4.22's command names. A command
// stratus does not implement answers as CloudStack answers an unknown
// command (401 under key auth), but when the name is a real command the
// handler says so in its log and metrics: not yet simulated is not bad
// credentials.
//
//go:embed cloudstack-4.22-apis.txt
var referenceAPIs string

// referenceNames returns the 4.22 command names, lower-cased, mapped to
// their spelling.
func referenceNames() map[string]string {
	out := map[string]string{}
	for _, l := range strings.Split(referenceAPIs, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out[strings.ToLower(l)] = l
		}
	}
	return out
}

// noteUnimplemented logs and counts a request for a real CloudStack
// command stratus does not implement (other unknown names are only
// counted, as "other", so the metric's labels stay bounded).
func (h *Handler) noteUnimplemented(rq *request, name string) {
	real, ok := h.reference[strings.ToLower(name)]
	if !ok {
		h.unimplemented.WithLabelValues("other").Inc()
		h.log.Debug("unknown API command", "command", sanitizeHeader(name))
		return
	}
	h.unimplemented.WithLabelValues(real).Inc()
	h.log.Warn("CloudStack API command not simulated by stratus; answering as CloudStack does for an unknown command", "command", real)
}
