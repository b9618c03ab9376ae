package cloudstack

import "github.com/stratus-cloud/stratus/internal/cloud"

// checkAffinityGroups refuses what deployVirtualMachine's affinity group
// parameters name and the simulator does not have: it has no affinity
// groups yet, so every name is unknown (ids are refused by the parameter
// check), as on a real server where the group does not exist.
func checkAffinityGroups(rq *request) error {
	names := rq.p.List("affinitygroupnames")
	if len(names) > 0 && rq.str("affinitygroupids") != "" {
		return cloud.Invalid("affinitygroupids parameter is mutually exclusive with affinitygroupnames parameter")
	}
	if len(names) > 0 {
		return cloud.Invalid("Unable to find affinity group by name %s", names[0])
	}
	return nil
}
