package csclient

import (
	"context"
	"net/url"
)

// DiskOffering is a listDiskOfferings item.
type DiskOffering struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	DiskSize     Int    `json:"disksize"`
	IsCustomized bool   `json:"iscustomized"`
}

// Snapshot is a listSnapshots item.
type Snapshot struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	VolumeID     string `json:"volumeid"`
	VolumeName   string `json:"volumename"`
	ZoneID       string `json:"zoneid"`
	State        string `json:"state"`
	VirtualSize  Int    `json:"virtualsize"`
	PhysicalSize Int    `json:"physicalsize"`
	Created      string `json:"created"`
}

// ListDiskOfferings lists the disk offerings.
func (c *Client) ListDiskOfferings(ctx context.Context) ([]DiskOffering, error) {
	return list[DiskOffering](ctx, c, "listDiskOfferings", "diskoffering", nil)
}

// ListSnapshots lists volume snapshots matching params.
func (c *Client) ListSnapshots(ctx context.Context, params url.Values) ([]Snapshot, error) {
	return list[Snapshot](ctx, c, "listSnapshots", "snapshot", params)
}

// PublicIP is a listPublicIpAddresses item with what the gateway's
// addresses show.
type PublicIP struct {
	ID                 string `json:"id"`
	IPAddress          string `json:"ipaddress"`
	ZoneID             string `json:"zoneid"`
	State              string `json:"state"`
	Allocated          string `json:"allocated"`
	IsSourceNAT        bool   `json:"issourcenat"`
	VirtualMachineID   string `json:"virtualmachineid"`
	VirtualMachineName string `json:"virtualmachinename"`
	Tags               []Tag  `json:"tags"`
}

// ListPublicIPs lists the allocated public addresses matching params.
func (c *Client) ListPublicIPs(ctx context.Context, params url.Values) ([]PublicIP, error) {
	return list[PublicIP](ctx, c, "listPublicIpAddresses", "publicipaddress", params)
}
