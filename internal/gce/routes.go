package gce

import "net/http"

// routes registers every method the gateway serves.
func (g *Gateway) routes() *http.ServeMux {
	m := http.NewServeMux()
	const p = "/compute/v1/projects/{project}"
	h := func(pattern string, fn handlerFunc) { m.Handle(pattern, g.api(fn, 0)) }
	pub := func(pattern string, fn handlerFunc) { m.Handle(pattern, g.api(fn, publicRead)) }

	h("GET "+p, g.getProject)
	h("POST "+p+"/setCommonInstanceMetadata", g.setCommonInstanceMetadata)

	h("GET "+p+"/zones", g.listZones)
	h("GET "+p+"/zones/{zone}", g.getZone)
	h("GET "+p+"/regions", g.listRegions)
	h("GET "+p+"/regions/{region}", g.getRegion)

	h("GET "+p+"/zones/{zone}/machineTypes", g.listMachineTypes)
	h("GET "+p+"/zones/{zone}/machineTypes/{name}", g.getMachineType)
	h("GET "+p+"/aggregated/machineTypes", g.aggregatedMachineTypes)

	pub("GET "+p+"/global/images", g.listImages)
	pub("GET "+p+"/global/images/{name}", g.getImage)
	h("POST "+p+"/global/images", g.insertImage)
	h("DELETE "+p+"/global/images/{name}", g.deleteImage)
	pub("GET "+p+"/global/images/family/{family}", g.getImageFromFamily)
	pub("GET "+p+"/zones/{zone}/imageFamilyViews/{family}", g.getImageFamilyView)

	h("GET "+p+"/global/networks", g.listNetworks)
	h("GET "+p+"/global/networks/{name}", g.getNetwork)
	h("POST "+p+"/global/networks", g.insertNetwork)
	h("DELETE "+p+"/global/networks/{name}", g.deleteNetwork)

	h("GET "+p+"/regions/{region}/subnetworks", g.listSubnetworks)
	h("GET "+p+"/regions/{region}/subnetworks/{name}", g.getSubnetwork)
	h("GET "+p+"/aggregated/subnetworks", g.aggregatedSubnetworks)
	h("GET "+p+"/regions/{region}/forwardingRules", g.listForwardingRules)
	h("GET "+p+"/regions/{region}/forwardingRules/{name}", g.getForwardingRule)
	h("GET "+p+"/aggregated/forwardingRules", g.aggregatedForwardingRules)
	h("GET "+p+"/global/routes", g.listRoutes)
	h("GET "+p+"/global/routes/{name}", g.getRoute)

	h("GET "+p+"/global/firewalls", g.listFirewalls)
	h("POST "+p+"/global/firewalls", g.insertFirewall)
	h("GET "+p+"/global/firewalls/{name}", g.getFirewall)
	h("PATCH "+p+"/global/firewalls/{name}", g.patchFirewall)
	h("PUT "+p+"/global/firewalls/{name}", g.updateFirewall)
	h("DELETE "+p+"/global/firewalls/{name}", g.deleteFirewall)

	h("GET "+p+"/zones/{zone}/instances", g.listInstances)
	h("POST "+p+"/zones/{zone}/instances", g.insertInstance)
	h("GET "+p+"/aggregated/instances", g.aggregatedInstances)
	h("GET "+p+"/zones/{zone}/instances/{name}", g.getInstance)
	h("DELETE "+p+"/zones/{zone}/instances/{name}", g.deleteInstance)
	h("POST "+p+"/zones/{zone}/instances/{name}/start", g.startInstance)
	h("POST "+p+"/zones/{zone}/instances/{name}/stop", g.stopInstance)
	h("POST "+p+"/zones/{zone}/instances/{name}/reset", g.resetInstance)
	h("POST "+p+"/zones/{zone}/instances/{name}/setMetadata", g.setInstanceMetadata)
	h("POST "+p+"/zones/{zone}/instances/{name}/setLabels", g.setInstanceLabels)
	h("POST "+p+"/zones/{zone}/instances/{name}/setTags", g.setInstanceTags)
	h("GET "+p+"/zones/{zone}/instances/{name}/serialPort", g.getSerialPortOutput)
	h("POST "+p+"/zones/{zone}/instances/{name}/setMachineType", g.setMachineType)
	h("POST "+p+"/zones/{zone}/instances/{name}/setDeletionProtection", g.setDeletionProtection)
	h("POST "+p+"/zones/{zone}/instances/{name}/setScheduling", g.setScheduling)
	h("POST "+p+"/zones/{zone}/instances/{name}/suspend", g.suspendInstance)
	h("POST "+p+"/zones/{zone}/instances/{name}/resume", g.resumeInstance)

	h("GET "+p+"/global/instanceTemplates", g.listTemplates)
	h("POST "+p+"/global/instanceTemplates", g.insertTemplate)
	h("GET "+p+"/global/instanceTemplates/{name}", g.getTemplate)
	h("DELETE "+p+"/global/instanceTemplates/{name}", g.deleteTemplate)
	h("GET "+p+"/aggregated/instanceTemplates", g.aggregatedTemplates)

	h("GET "+p+"/zones/{zone}/instanceGroupManagers", managerLists.list)
	h("POST "+p+"/zones/{zone}/instanceGroupManagers", g.insertGroup)
	h("GET "+p+"/zones/{zone}/instanceGroupManagers/{name}", g.getGroup)
	h("DELETE "+p+"/zones/{zone}/instanceGroupManagers/{name}", g.deleteGroup)
	h("POST "+p+"/zones/{zone}/instanceGroupManagers/{name}/resize", g.resizeGroup)
	h("POST "+p+"/zones/{zone}/instanceGroupManagers/{name}/listManagedInstances", g.listManagedInstances)
	h("POST "+p+"/zones/{zone}/instanceGroupManagers/{name}/recreateInstances", g.recreateGroupInstances)
	h("GET "+p+"/aggregated/instanceGroupManagers", managerLists.aggregated)
	h("GET "+p+"/zones/{zone}/instanceGroups", groupLists.list)
	h("GET "+p+"/zones/{zone}/instanceGroups/{name}", g.getInstanceGroup)
	h("POST "+p+"/zones/{zone}/instanceGroups/{name}/listInstances", g.listGroupInstances)
	h("GET "+p+"/aggregated/instanceGroups", groupLists.aggregated)
	h("GET "+p+"/zones/{zone}/autoscalers", g.listAutoscalers)
	h("GET "+p+"/aggregated/autoscalers", g.aggregatedAutoscalers)

	h("GET "+p+"/zones/{zone}/diskTypes", g.listDiskTypes)
	h("GET "+p+"/zones/{zone}/diskTypes/{name}", g.getDiskType)
	h("GET "+p+"/aggregated/diskTypes", g.aggregatedDiskTypes)
	h("GET "+p+"/zones/{zone}/disks", g.listDisks)
	h("GET "+p+"/zones/{zone}/disks/{name}", g.getDisk)
	h("GET "+p+"/aggregated/disks", g.aggregatedDisks)
	h("POST "+p+"/zones/{zone}/disks", g.insertDisk)
	h("DELETE "+p+"/zones/{zone}/disks/{name}", g.deleteDisk)
	h("POST "+p+"/zones/{zone}/disks/{name}/createSnapshot", g.createDiskSnapshot)
	h("POST "+p+"/zones/{zone}/disks/{name}/resize", g.resizeDisk)
	h("POST "+p+"/zones/{zone}/instances/{name}/attachDisk", g.attachDisk)
	h("POST "+p+"/zones/{zone}/instances/{name}/detachDisk", g.detachDisk)

	h("GET "+p+"/regions/{region}/addresses", g.listAddresses)
	h("POST "+p+"/regions/{region}/addresses", g.insertAddress)
	h("GET "+p+"/regions/{region}/addresses/{name}", g.getAddress)
	h("DELETE "+p+"/regions/{region}/addresses/{name}", g.deleteAddress)
	h("GET "+p+"/aggregated/addresses", g.aggregatedAddresses)

	h("GET "+p+"/global/snapshots", g.listSnapshots)
	h("POST "+p+"/global/snapshots", g.insertSnapshot)
	h("GET "+p+"/global/snapshots/{name}", g.getSnapshot)
	h("DELETE "+p+"/global/snapshots/{name}", g.deleteSnapshot)

	h("GET "+p+"/zones/{zone}/operations", g.listZoneOperations)
	h("GET "+p+"/zones/{zone}/operations/{name}", g.getOperation)
	h("POST "+p+"/zones/{zone}/operations/{name}/wait", g.waitOperation)
	h("GET "+p+"/regions/{region}/operations", g.listRegionOperations)
	h("GET "+p+"/regions/{region}/operations/{name}", g.getOperation)
	h("POST "+p+"/regions/{region}/operations/{name}/wait", g.waitOperation)
	h("GET "+p+"/global/operations", g.listGlobalOperations)
	h("GET "+p+"/global/operations/{name}", g.getOperation)
	h("POST "+p+"/global/operations/{name}/wait", g.waitOperation)
	h("GET "+p+"/aggregated/operations", g.aggregatedOperations)

	m.HandleFunc("POST /batch/compute/v1", g.serveBatch)
	m.HandleFunc("/oauth2/token", g.serveOAuthToken)
	m.HandleFunc("/", g.notFoundHandler)
	return m
}
