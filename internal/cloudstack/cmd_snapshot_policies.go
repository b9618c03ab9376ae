package cloudstack

import (
	"github.com/stratus-cloud/stratus/internal/cloud"
)

// Snapshot policies (cloud/snapshot_policies.go): recurring snapshots of
// a volume, taken on the simulator's clock. Accepted and ignored (one
// zone's primary storage, no replication): zoneids, storageids and
// usestoragereplication (createSnapshotPolicy), tags (createSnapshotPolicy;
// tag the policy with createTags), customid (updateSnapshotPolicy).

func snapshotPolicyCommands() []*command {
	return []*command{
		{Name: "createSnapshotPolicy", Desc: "Creates a snapshot policy for the account.", Resp: "snapshotpolicy", RespOf: snapshotPolicyView{},
			Params: []param{
				p("intervaltype*:string", "valid values are HOURLY, DAILY, WEEKLY, and MONTHLY"),
				p("maxsnaps*:integer", "maximum number of snapshots to retain"),
				p("schedule*:string", "time the snapshot is scheduled to be taken. Format is:* if HOURLY, MM* if DAILY, MM:HH* if WEEKLY, MM:HH:DD (1-7)* if MONTHLY, MM:HH:DD (1-28)"),
				p("timezone*:string", "Specifies a timezone for this command. For more information on the timezone parameter, see TimeZone Format."),
				p("volumeid*:uuid:Volume", "the ID of the disk volume"),
				p("fordisplay:boolean", "an optional field, whether to the display the policy to the end user or not"),
				p("tags:map", "Map of tags (key/value pairs)"),
				p("zoneids:list", "A list of IDs of the zones in which the snapshot will be made available. The snapshot will always be made available in the zone in which the volume is present."),
				p("storageids:list", "A list of IDs of the storage pools in which the snapshot will be made available."),
				p("usestoragereplication:boolean", "This parameter enables the option the snapshot to be copied to supported primary storage"),
			},
			Run: func(rq *request) (any, error) {
				pol, err := rq.h.sim.CreateSnapshotPolicy(rq.ctx, rq.c, cloud.SnapshotPolicyRequest{VolumeID: rq.str("volumeid"),
					IntervalType: rq.str("intervaltype"), Schedule: rq.str("schedule"), Timezone: rq.str("timezone"),
					MaxSnaps: rq.integer("maxsnaps", 0), Display: rq.optBool("fordisplay")})
				if err != nil {
					return nil, err
				}
				return rq.read(func(r cloud.Reader) (any, error) {
					return Object{Key: "snapshotpolicy", Obj: snapshotPolicyOf(r, pol)}, nil
				})
			}},
		{Name: "listSnapshotPolicies", Desc: "Lists snapshot policies.", Resp: "snapshotpolicy", RespOf: snapshotPolicyView{},
			Params: listParams(p("volumeid:uuid:Volume", "the ID of the disk volume"), p("id:uuid:SnapshotPolicy", "the ID of the snapshot policy"),
				p("fordisplay:boolean", "list resources by display flag; only ROOT admin is eligible to pass this parameter")),
			Run: listSnapshotPolicies},
		{Name: "updateSnapshotPolicy", Async: true, Desc: "Updates the snapshot policy.", Resp: "snapshotpolicy", RespOf: snapshotPolicyView{},
			Params: []param{p("id:uuid:SnapshotPolicy", "the ID of the snapshot policy"),
				p("fordisplay:boolean", "an optional field, whether to the display the snapshot policy to the end user or not."),
				p("customid:string", "an optional field, in case you want to set a custom id to the resource. Allowed to Root Admins only")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.UpdateSnapshotPolicy(rq.ctx, rq.c, rq.str("id"), rq.optBool("fordisplay"), rq.className()))
			}},
		{Name: "deleteSnapshotPolicies", Desc: "Deletes snapshot policies for the account.", Resp: "success", RespOf: Success{},
			Params: []param{p("id:uuid:SnapshotPolicy", "the Id of the snapshot policy"), p("ids:list:SnapshotPolicy", "list of snapshots policy IDs separated by comma")},
			Run: func(rq *request) (any, error) {
				ids := rq.p.List("ids")
				if id := rq.str("id"); id != "" {
					if len(ids) > 0 {
						return nil, cloud.Invalid("Only one of the parameters id and ids can be specified.")
					}
					ids = []string{id}
				}
				if err := rq.h.sim.DeleteSnapshotPolicies(rq.ctx, rq.c, ids); err != nil {
					return nil, err
				}
				return Success{Success: true}, nil
			}},
	}
}

type snapshotPolicyView struct {
	ID           string    `json:"id"`
	VolumeID     string    `json:"volumeid"`
	VolumeName   string    `json:"volumename"`
	IntervalType int       `json:"intervaltype"`
	Schedule     string    `json:"schedule"`
	Timezone     string    `json:"timezone"`
	MaxSnaps     int       `json:"maxsnaps"`
	ForDisplay   bool      `json:"fordisplay"`
	Tags         []tagView `json:"tags"`
	Zone         []any     `json:"zone"`
	Storage      []any     `json:"storage"`
}

func snapshotPolicyOf(r cloud.Reader, p *cloud.SnapshotPolicy) snapshotPolicyView {
	v := snapshotPolicyView{ID: p.ID, VolumeID: p.VolumeID, IntervalType: p.Interval, Schedule: p.Schedule, Timezone: p.Timezone,
		MaxSnaps: p.MaxSnaps, ForDisplay: p.Display, Tags: tagsOf(r, p.ID), Zone: []any{}, Storage: []any{}}
	if vol, ok := r.Volume(p.VolumeID); ok {
		v.VolumeName = vol.Name
	}
	return v
}

func listSnapshotPolicies(rq *request) (any, error) {
	return rq.read(func(r cloud.Reader) (any, error) {
		if id := rq.str("volumeid"); id != "" {
			if v, ok := r.Volume(id); !ok || !r.CanAccess(rq.c, v.Owner) {
				return nil, cloud.Invalid("Unable to find a volume with id %s", id)
			}
		}
		display, hasDisplay := rq.p["fordisplay"]
		return listView(rq, "snapshotpolicy", r.SnapshotPolicies(), func(p *cloud.SnapshotPolicy) bool {
			return r.CanAccess(rq.c, p.Owner) && rq.match("volumeid", p.VolumeID) && rq.match("id", p.ID) &&
				(!hasDisplay || display == "" || parseBool(display) == p.Display)
		}, func(p *cloud.SnapshotPolicy) snapshotPolicyView { return snapshotPolicyOf(r, p) })
	})
}
