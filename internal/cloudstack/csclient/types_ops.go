package csclient

import "encoding/json"

// The objects an operator's view reads: hosts, events, async jobs as
// listAsyncJobs shows them, and the simulator's injected faults.

// Host is a listHosts item, with its capacity.
type Host struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	State        string `json:"state"`
	Type         string `json:"type"`
	ZoneName     string `json:"zonename"`
	ClusterName  string `json:"clustername"`
	CPUNumber    Int    `json:"cpunumber"`
	CPUSpeed     Int    `json:"cpuspeed"`
	CPUAllocated Text   `json:"cpuallocated"`
	// CPUAllocatedMHz is cpuallocatedvalue (newer releases only).
	CPUAllocatedMHz Int `json:"cpuallocatedvalue"`
	MemoryTotal     Int `json:"memorytotal"`
	MemoryAllocated Int `json:"memoryallocated"`
	MemoryUsed      Int `json:"memoryused"`
}

// Event is a listEvents item.
type Event struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	Level       string `json:"level"`
	State       string `json:"state"`
	Description string `json:"description"`
	Account     string `json:"account"`
	Username    string `json:"username"`
	Created     string `json:"created"`
	// ResourceID and ResourceType name what the event is about.
	ResourceID   string `json:"resourceid"`
	ResourceType string `json:"resourcetype"`
}

// AsyncJob is a listAsyncJobs item (queryAsyncJobResult's Job, with what
// the job was run on and for whom).
type AsyncJob struct {
	JobID        string `json:"jobid"`
	Cmd          string `json:"cmd"`
	Status       Int    `json:"jobstatus"`
	ResultCode   Int    `json:"jobresultcode"`
	InstanceType string `json:"jobinstancetype"`
	InstanceID   string `json:"jobinstanceid"`
	Created      string `json:"created"`
	Completed    string `json:"completed"`
	Account      string `json:"account"`
	Result       struct {
		ErrorText string `json:"errortext"`
	} `json:"jobresult"`
}

// StatusName says what the job's status means.
func (j AsyncJob) StatusName() string {
	switch j.Status {
	case JobPending:
		return "pending"
	case JobSucceeded:
		return "succeeded"
	case JobFailed:
		return "failed"
	}
	return "unknown"
}

// ShortCmd is the command's class without its package.
func (j AsyncJob) ShortCmd() string {
	for i := len(j.Cmd) - 1; i >= 0; i-- {
		if j.Cmd[i] == '.' {
			return j.Cmd[i+1:]
		}
	}
	return j.Cmd
}

// SimulatorMock is a listSimulatorMocks item: an injected fault.
type SimulatorMock struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	ZoneID    string `json:"zoneid"`
	PodID     string `json:"podid"`
	ClusterID string `json:"clusterid"`
	HostID    string `json:"hostid"`
	Count     *Int   `json:"count"`
	Value     string `json:"value"`
	// Active is false once a mock with a count has fired that many times.
	Active Bool `json:"active"`
}

// IPs lists a VM's addresses, default NIC first, then the public IP.
func (v VirtualMachine) IPs() []string {
	var out []string
	for _, n := range v.Nic {
		if n.IPAddress != "" && n.IsDefault {
			out = append(out, n.IPAddress)
		}
	}
	for _, n := range v.Nic {
		if n.IPAddress != "" && !n.IsDefault {
			out = append(out, n.IPAddress)
		}
	}
	if v.PublicIP != "" {
		out = append(out, v.PublicIP)
	}
	return out
}

// Text is a JSON string that CloudStack may also send as a number
// (cpuallocated is "12.5%" in some releases, 12.5 in others).
type Text string

// UnmarshalJSON accepts "12.5%" and 12.5.
func (t *Text) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = Text(s)
		return nil
	}
	*t = Text(b)
	return nil
}
