package dashboard

import "encoding/json"

// The CloudStack objects the dashboard shows, with only the fields it reads.
// Numbers that CloudStack sends as numbers or strings depending on version
// are read as json.Number or flexible types.

type zone struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	NetworkType string `json:"networktype"`
	Allocation  string `json:"allocationstate"`
	SGEnabled   bool   `json:"securitygroupsenabled"`
}

type host struct {
	ID              string     `json:"id"`
	Name            string     `json:"name"`
	State           string     `json:"state"`
	ZoneName        string     `json:"zonename"`
	ClusterName     string     `json:"clustername"`
	CPUNumber       int64      `json:"cpunumber"`
	CPUSpeed        int64      `json:"cpuspeed"`
	CPUAllocated    flexString `json:"cpuallocated"`
	CPUAllocatedMHz flexInt    `json:"cpuallocatedvalue"`
	MemoryTotal     int64      `json:"memorytotal"`
	MemoryAllocated flexInt    `json:"memoryallocated"`
	MemoryUsed      flexInt    `json:"memoryused"`
	Type            string     `json:"type"`
}

type nic struct {
	IPAddress   string `json:"ipaddress"`
	NetworkName string `json:"networkname"`
	IsDefault   bool   `json:"isdefault"`
}

type vm struct {
	ID                  string `json:"id"`
	Name                string `json:"name"`
	DisplayName         string `json:"displayname"`
	Account             string `json:"account"`
	State               string `json:"state"`
	ZoneName            string `json:"zonename"`
	HostName            string `json:"hostname"`
	ServiceOfferingName string `json:"serviceofferingname"`
	TemplateName        string `json:"templatename"`
	Created             string `json:"created"`
	PublicIP            string `json:"publicip"`
	Nics                []nic  `json:"nic"`
	JobID               string `json:"jobid"`
}

// IPs lists the VM's addresses, default NIC first, then the public IP.
func (v vm) IPs() []string {
	var out []string
	for _, n := range v.Nics {
		if n.IPAddress != "" {
			out = append(out, n.IPAddress)
		}
	}
	if v.PublicIP != "" {
		out = append(out, v.PublicIP)
	}
	return out
}

type serviceOffering struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	CPUNumber int    `json:"cpunumber"`
	CPUSpeed  int    `json:"cpuspeed"`
	Memory    int    `json:"memory"`
}

type vmTemplate struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	ZoneID  string `json:"zoneid"`
	IsReady bool   `json:"isready"`
}

type sgRule struct {
	RuleID            string `json:"ruleid"`
	Protocol          string `json:"protocol"`
	StartPort         int    `json:"startport"`
	EndPort           int    `json:"endport"`
	ICMPType          *int   `json:"icmptype"`
	ICMPCode          *int   `json:"icmpcode"`
	CIDR              string `json:"cidr"`
	SecurityGroupName string `json:"securitygroupname"`
	Account           string `json:"account"`
}

type securityGroup struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Account     string   `json:"account"`
	Ingress     []sgRule `json:"ingressrule"`
	Egress      []sgRule `json:"egressrule"`
	VMCount     int      `json:"virtualmachinecount"`
}

type keyPair struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Fingerprint string `json:"fingerprint"`
	Account     string `json:"account"`
	Domain      string `json:"domain"`
}

type asyncJob struct {
	JobID        string `json:"jobid"`
	Cmd          string `json:"cmd"`
	Status       int    `json:"jobstatus"`
	ResultCode   int    `json:"jobresultcode"`
	InstanceType string `json:"jobinstancetype"`
	InstanceID   string `json:"jobinstanceid"`
	Created      string `json:"created"`
	Completed    string `json:"completed"`
	Account      string `json:"account"`
	Result       struct {
		ErrorText string `json:"errortext"`
	} `json:"jobresult"`
}

// StatusName says what jobstatus means.
func (j asyncJob) StatusName() string {
	switch j.Status {
	case 0:
		return "pending"
	case 1:
		return "succeeded"
	case 2:
		return "failed"
	}
	return "unknown"
}

// ShortCmd is the command class without its package.
func (j asyncJob) ShortCmd() string {
	c := j.Cmd
	for i := len(c) - 1; i >= 0; i-- {
		if c[i] == '.' {
			return c[i+1:]
		}
	}
	return c
}

type event struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	Level       string `json:"level"`
	State       string `json:"state"`
	Description string `json:"description"`
	Account     string `json:"account"`
	Username    string `json:"username"`
	Created     string `json:"created"`
}

type simulatorMock struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	ZoneID    string `json:"zoneid"`
	PodID     string `json:"podid"`
	ClusterID string `json:"clusterid"`
	HostID    string `json:"hostid"`
	Count     *int   `json:"count"`
	Value     string `json:"value"`
	// Active is false once a mock with a count has fired that many times.
	Active bool `json:"active"`
}

// flexString reads a JSON string or number as a string.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	*f = flexString(b)
	return nil
}

// flexInt reads a JSON number or a string holding one; anything else is 0.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	var n json.Number
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		n = json.Number(s)
	} else {
		n = json.Number(b)
	}
	if i, err := n.Int64(); err == nil {
		*f = flexInt(i)
	} else if fl, err := n.Float64(); err == nil {
		*f = flexInt(int64(fl))
	} else {
		*f = 0
	}
	return nil
}
