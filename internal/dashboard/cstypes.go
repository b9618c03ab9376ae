package dashboard

import "github.com/stratus-cloud/stratus/internal/cloudstack/csclient"

// The CloudStack objects the dashboard shows are the CloudStack client's.
type (
	zone            = csclient.Zone
	host            = csclient.Host
	vm              = csclient.VirtualMachine
	serviceOffering = csclient.ServiceOffering
	vmTemplate      = csclient.Template
	securityGroup   = csclient.SecurityGroup
	keyPair         = csclient.SSHKeyPair
	asyncJob        = csclient.AsyncJob
	event           = csclient.Event
	simulatorMock   = csclient.SimulatorMock
)
