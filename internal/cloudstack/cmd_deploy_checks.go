package cloudstack

import "github.com/stratus-cloud/stratus/internal/cloud"

// checkAffinityGroups refuses deployVirtualMachine's affinity group ids
// and names given together; unknown names are refused by the deploy
// itself, unknown ids by the parameter check.
func checkAffinityGroups(rq *request) error {
	names := rq.p.List("affinitygroupnames")
	if len(names) > 0 && rq.str("affinitygroupids") != "" {
		return cloud.Invalid("affinitygroupids parameter is mutually exclusive with affinitygroupnames parameter")
	}
	return nil
}
