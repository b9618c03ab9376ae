package gce

import (
	"net/http"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// An instance's access config is CloudStack static NAT of a public
// address to its VM: addAccessConfig enables it from the reserved address
// natIP names, or from one acquired for it; deleteAccessConfig disables
// it and gives back an acquired address (a reserved one stays the
// project's). Instances have one network interface, nic0, and at most one
// access config, as in GCE.

// defaultAccessConfigName is gcloud's and GCE's name of an instance's
// external NAT.
const defaultAccessConfigName = "external-nat"

// accessConfigInstance finds the instance of an access config call and
// checks its networkInterface parameter.
func (c *call) accessConfigInstance() (zoneInfo, *csclient.VirtualMachine, *instanceMeta, error) {
	z, err := c.zoneByName(c.r.PathValue("zone"))
	if err != nil {
		return z, nil, nil, err
	}
	vm, err := c.findVM(z, c.r.PathValue("name"), false)
	if err != nil {
		return z, nil, nil, err
	}
	nic := c.r.URL.Query().Get("networkInterface")
	if nic == "" {
		return z, nil, nil, errInvalid("Required field 'networkInterface' not specified")
	}
	if nic != "nic0" || len(vm.Nic) == 0 {
		return z, nil, nil, errInvalid("Invalid value for field 'networkInterface': '%s'. The instance has no such network interface.", nic)
	}
	m, err := c.instanceMeta(z.name, vm)
	return z, vm, m, err
}

func (g *Gateway) addAccessConfig(c *call) (any, error) {
	var in AccessConfig
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	z, vm, m, err := c.accessConfigInstance()
	if err != nil {
		return nil, err
	}
	switch in.Type {
	case "", "ONE_TO_ONE_NAT":
	default:
		return nil, errInvalid("Invalid value for field 'resource.type': '%s'. Must be one of [ONE_TO_ONE_NAT].", in.Type)
	}
	if in.Name == "" {
		in.Name = defaultAccessConfigName
	}
	if z.cs.NetworkType == "Basic" {
		return nil, errUnsupported("An access config in a CloudStack Basic zone (its addresses are reachable as they are)")
	}
	if vm.PublicIP != "" || m.ExternalIP {
		return nil, errInvalid("At most one access config currently supported.")
	}
	var ipID, addr string
	acquired := false
	if in.NatIP != "" {
		ips, err := c.cs.ListPublicIPs(c.ctx, csclient.Params("ipaddress", in.NatIP, "zoneid", z.cs.ID))
		if err != nil {
			return nil, err
		}
		var ip *csclient.PublicIP
		for i := range ips {
			if ips[i].IPAddress == in.NatIP && addressName(&ips[i]) != "" {
				ip = &ips[i]
			}
		}
		if ip == nil {
			return nil, errInvalid("Invalid value for field 'resource.natIP': '%s'. Specified IP address is not reserved or is not available in the instance's region.", in.NatIP)
		}
		if ip.VirtualMachineID != "" {
			return nil, &apiError{Code: http.StatusBadRequest, Reason: "resourceInUseByAnotherResource",
				Message: "The address resource '" + c.addressPath(regionOf(z.name), addressName(ip)) + "' is already being used by '" +
					c.instancePath(z.name, ip.VirtualMachineName) + "'"}
		}
		ipID, addr = ip.ID, ip.IPAddress
	} else {
		var ip struct {
			ID        string `json:"id"`
			IPAddress string `json:"ipaddress"`
		}
		if err := c.cs.AsyncWait(c.ctx, "associateIpAddress", csclient.Params("zoneid", z.cs.ID, "networkid", vm.Nic[0].NetworkID), "ipaddress", &ip); err != nil {
			return nil, err
		}
		ipID, addr, acquired = ip.ID, ip.IPAddress, true
	}
	if err := c.cs.Do(c.ctx, "enableStaticNat", csclient.Params("ipaddressid", ipID, "virtualmachineid", vm.ID), nil); err != nil {
		if acquired {
			c.releaseAddress(ipID)
		}
		return nil, err
	}
	if err := c.updateMeta(z.name, vm, func(m *instanceMeta) {
		m.ExternalIP, m.NATIP, m.AccessConfigName, m.NATIPID = true, addr, in.Name, ""
		if acquired {
			// only an acquired address goes with the instance
			m.NATIPID = ipID
		}
	}); err != nil {
		return nil, err
	}
	return c.startOp(opScope{zone: z.name}, "addAccessConfig", c.instanceTarget(z.name, vm.Name), idOf("instance", vm.ID), nil, nil)
}

func (g *Gateway) deleteAccessConfig(c *call) (any, error) {
	z, vm, m, err := c.accessConfigInstance()
	if err != nil {
		return nil, err
	}
	name := c.r.URL.Query().Get("accessConfig")
	if name == "" {
		return nil, errInvalid("Required field 'accessConfig' not specified")
	}
	have := m.AccessConfigName
	if have == "" {
		have = defaultAccessConfigName
	}
	if !(vm.PublicIP != "" || m.ExternalIP) || name != have {
		return nil, errInvalid("Invalid value for field 'accessConfig': '%s'. The network interface has no such access config.", name)
	}
	if z.cs.NetworkType == "Basic" {
		return nil, errUnsupported("Removing the access config of an instance in a CloudStack Basic zone")
	}
	ips, err := c.cs.ListPublicIPs(c.ctx, csclient.Params("virtualmachineid", vm.ID, "isstaticnat", "true"))
	if err != nil {
		return nil, err
	}
	var jobs []string
	for i := range ips {
		ip := &ips[i]
		if ip.VirtualMachineID != vm.ID {
			continue
		}
		if err := c.cs.AsyncWait(c.ctx, "disableStaticNat", csclient.Params("ipaddressid", ip.ID), "", nil); err != nil {
			return nil, err
		}
		if addressName(ip) == "" && !ip.IsSourceNAT {
			res, err := c.cs.Async(c.ctx, "disassociateIpAddress", csclient.Params("id", ip.ID))
			if err != nil {
				return nil, err
			}
			jobs = append(jobs, res.JobID)
		}
	}
	if err := c.updateMeta(z.name, vm, func(m *instanceMeta) {
		m.ExternalIP, m.NATIP, m.NATIPID, m.AccessConfigName = false, "", "", ""
	}); err != nil {
		return nil, err
	}
	return c.startOp(opScope{zone: z.name}, "deleteAccessConfig", c.instanceTarget(z.name, vm.Name), idOf("instance", vm.ID), jobs, nil)
}
