package gce

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// CloudStack has no serial console API, so the gateway writes the
// console a VM of that template, address and user data would show while
// booting: a stable text built from what CloudStack reports, enough for
// tools that wait for a login prompt or cloud-init's final message. What
// the guest itself wrote (guest, from stratus's
// getVirtualMachineConsoleOutput where the CloudStack has it: e.g. why a
// join command joined nothing) comes before cloud-init's final message.
func serialConsole(vm *csclient.VirtualMachine, userData, guest string) string {
	var b strings.Builder
	line := func(ts float64, format string, args ...any) {
		fmt.Fprintf(&b, "[%12.6f] ", ts)
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
	}
	b.WriteString("SeaBIOS (version stratus)\nBooting from Hard Disk 0...\n")
	line(0, "Linux version 6.1.0-cloud-amd64 (%s)", vm.TemplateName)
	line(0, "Command line: BOOT_IMAGE=/boot/vmlinuz root=/dev/sda1 console=ttyS0,115200")
	line(0.01, "CPU: %d vCPUs, Memory: %d MiB", vm.CPUNumber, vm.Memory)
	line(1.2, "cloud-init[412]: Cloud-init running 'init-local'")
	for i, nic := range vm.Nic {
		line(1.5, "cloud-init[420]: ci-info: | eth%d | True | %s | %s | global | %s |", i, nic.IPAddress, nic.Netmask, nic.MACAddress)
	}
	line(1.6, "cloud-init[420]: hostname: %s", vm.Name)
	if userData != "" {
		line(2.1, "cloud-init[501]: user-data: %d bytes processed", len(userData))
	}
	for _, l := range strings.Split(strings.TrimRight(guest, "\n"), "\n") {
		if l != "" {
			line(2.2, "%s", l)
		}
	}
	line(2.4, "cloud-init[530]: Cloud-init finished. Datasource DataSourceCloudStack.")
	fmt.Fprintf(&b, "\n%s login: \n", vm.Name)
	if vm.State == "Stopped" || vm.State == "Stopping" {
		line(3600, "reboot: Power down")
	}
	return b.String()
}

func (g *Gateway) getSerialPortOutput(c *call) (any, error) {
	q := c.r.URL.Query()
	port := int64(1)
	if s := q.Get("port"); s != "" {
		p, err := strconv.ParseInt(s, 10, 64)
		if err != nil || p < 1 || p > 4 {
			return nil, errInvalid("Invalid value for field 'port': '%s'. Must be between 1 and 4.", s)
		}
		port = p
	}
	start := int64(0)
	if s := q.Get("start"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, errInvalid("Invalid value for field 'start': '%s'.", s)
		}
		start = v
	}
	z, vm, m, err := c.instanceCall(true)
	if err != nil {
		return nil, err
	}
	contents := ""
	if port == 1 {
		ud, _ := itemValue(metadataItems(vm, m), userDataKey)
		// a CloudStack without stratus's console command has no guest text
		guest, _ := c.cs.ConsoleOutput(c.ctx, vm.ID)
		contents = serialConsole(vm, ud, guest)
	}
	n := int64(len(contents))
	if start < 0 {
		start = max(n+start, 0)
	}
	start = min(start, n)
	return &SerialPortOutput{Kind: "compute#serialPortOutput", Contents: contents[start:], Port: port, Start: start, Next: n,
		SelfLink: c.link("zones", z.name, "instances", vm.Name, "serialPort")}, nil
}
