package gce

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
	"github.com/stratus-cloud/stratus/internal/store"
)

// Operation statuses.
const (
	opRunning = "RUNNING"
	opDone    = "DONE"
)

// opScope says where an operation lives: a zone, a region, or global.
type opScope struct{ zone, region string }

func (s opScope) key() string {
	switch {
	case s.zone != "":
		return "zones/" + s.zone
	case s.region != "":
		return "regions/" + s.region
	}
	return "global"
}

// startOp records an operation over CloudStack jobs and answers it. With
// no jobs, or with failErr set, it is DONE at once.
func (c *call) startOp(scope opScope, opType, target string, targetID uint64, jobs []string, failErr error, opts ...func(*opRecord)) (*Operation, error) {
	now := c.g.now()
	var rnd [14]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, err
	}
	rec := &opRecord{
		Name:     fmt.Sprintf("operation-%d-%s", now.UnixMilli(), hex.EncodeToString(rnd[:6])),
		ID:       binary.BigEndian.Uint64(rnd[6:]) & (1<<63 - 1),
		Zone:     scope.zone,
		Region:   scope.region,
		Type:     opType,
		Target:   target,
		TargetID: targetID,
		Jobs:     jobs,
		Status:   opRunning,
		User:     c.tok.User,
		Insert:   now,
	}
	if len(jobs) == 0 {
		rec.Status, rec.End = opDone, now
	}
	if failErr != nil {
		rec.Status, rec.End = opDone, now
		rec.fail(failErr)
	}
	for _, o := range opts {
		o(rec)
	}
	if _, err := c.g.opsOf(c.project).Create(c.ctx, rec.Name, rec); err != nil {
		return nil, err
	}
	return c.renderOp(rec), nil
}

// fail marks the operation as failed with a CloudStack error.
func (rec *opRecord) fail(err error) {
	code, text := 530, err.Error()
	var ce *csclient.Error
	if errors.As(err, &ce) {
		code, text = ce.ErrorCode, ce.Text
	}
	rec.failCode(code, text)
}

func (rec *opRecord) failCode(csCode int, text string) {
	code, status := opErrorCode(csCode)
	rec.Error = &OpError{Errors: []OpErrorItem{{Code: code, Message: text}}}
	rec.HTTPStatus = status
	rec.HTTPMessage = strings.ToUpper(http.StatusText(status))
}

// renderOp is the wire form of an operation.
func (c *call) renderOp(rec *opRecord) *Operation {
	op := &Operation{
		Kind:                "compute#operation",
		ID:                  rec.ID,
		Name:                rec.Name,
		OperationType:       rec.Type,
		TargetLink:          c.link(rec.Target),
		TargetID:            rec.TargetID,
		Status:              rec.Status,
		User:                rec.User,
		InsertTime:          gceTime(rec.Insert),
		StartTime:           gceTime(rec.Insert),
		Error:               rec.Error,
		HTTPErrorStatusCode: rec.HTTPStatus,
		HTTPErrorMessage:    rec.HTTPMessage,
	}
	scope := opScope{rec.Zone, rec.Region}
	op.SelfLink = c.link(scope.key(), "operations", rec.Name)
	if rec.Zone != "" {
		op.Zone = c.zoneLink(rec.Zone)
	}
	if rec.Region != "" {
		op.Region = c.regionLink(rec.Region)
	}
	if rec.Status == opDone {
		op.Progress = 100
		op.EndTime = gceTime(rec.End)
	}
	return op
}

// refresh asks CloudStack about the jobs of a running operation and
// records the outcome once they are all done.
func (c *call) refresh(rec *opRecord) (*opRecord, error) {
	if rec.Status == opDone {
		return rec, nil
	}
	// One refresh of an operation at a time, so follow-up steps run once.
	mu := &c.g.opLocks[idOf("op", rec.Name)%uint64(len(c.g.opLocks))]
	mu.Lock()
	defer mu.Unlock()
	cur, _, err := c.g.opsOf(c.project).Get(c.ctx, rec.Name)
	if err != nil {
		return nil, err
	}
	rec = cur
	if rec.Status == opDone {
		return rec, nil
	}
	var failCode int
	var failText string
	for _, id := range rec.Jobs {
		j, err := c.cs.QueryJob(c.ctx, id)
		if err != nil {
			return nil, err
		}
		switch j.JobStatus {
		case csclient.JobPending:
			return rec, nil
		case csclient.JobFailed:
			if failText == "" {
				failCode, failText = j.Failure()
			}
		}
	}
	if rec.NAT != nil && failText == "" {
		more, err := c.natStep(rec)
		if err != nil || more {
			return rec, err
		}
	}
	now := c.g.now()
	ops := c.g.opsOf(c.project)
	next, _, err := ops.Update(c.ctx, rec.Name, func(cur *opRecord) (*opRecord, error) {
		if cur.Status == opDone {
			return cur, nil
		}
		cur.Status, cur.End = opDone, now
		if failText != "" {
			cur.failCode(failCode, failText)
		}
		return cur, nil
	})
	if err != nil {
		return nil, err
	}
	if next.CleanupVM != "" && next.Error != nil && rec.Status != opDone {
		if _, err := c.cs.Async(c.ctx, "destroyVirtualMachine", csclient.Params("id", next.CleanupVM, "expunge", "true")); err != nil {
			c.g.log.Debug("clean up failed instance", "vm", next.CleanupVM, "err", err)
		}
	}
	if next.ReleaseIP != "" && next.Error == nil && rec.Status != opDone {
		if _, err := c.cs.Async(c.ctx, "disassociateIpAddress", csclient.Params("id", next.ReleaseIP)); err != nil {
			c.g.log.Warn("release public IP of deleted instance", "ip", next.ReleaseIP, "err", err)
		}
	}
	if next.Forget != "" && next.Error == nil {
		if err := c.g.instanceMetas(c.project, "").Delete(c.ctx, strings.TrimPrefix(next.Forget, c.project+"/")); err != nil && !errors.Is(err, store.ErrNotFound) {
			c.g.log.Warn("forget instance metadata", "key", next.Forget, "err", err)
		}
	}
	return next, nil
}

// lookupOp finds an operation in the scope of the request path.
func (c *call) lookupOp() (*opRecord, error) {
	name := c.r.PathValue("name")
	scope := opScope{zone: c.r.PathValue("zone"), region: c.r.PathValue("region")}
	rec, _, err := c.g.opsOf(c.project).Get(c.ctx, name)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (opScope{rec.Zone, rec.Region}) != scope) {
		return nil, errNotFound("projects/" + c.project + "/" + scope.key() + "/operations/" + name)
	}
	return rec, err
}

func (g *Gateway) getOperation(c *call) (any, error) {
	rec, err := c.lookupOp()
	if err != nil {
		return nil, err
	}
	if rec, err = c.refresh(rec); err != nil {
		return nil, err
	}
	return c.renderOp(rec), nil
}

// waitOperation is operations.wait: it holds the call until the operation
// is done or WaitTimeout passes (then answers it still RUNNING, as GCE
// does after about two minutes).
func (g *Gateway) waitOperation(c *call) (any, error) {
	rec, err := c.lookupOp()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(c.ctx, g.opts.WaitTimeout)
	defer cancel()
	delay := 5 * time.Millisecond
	for {
		if rec, err = c.refresh(rec); err != nil {
			return nil, err
		}
		if rec.Status == opDone {
			return c.renderOp(rec), nil
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			if c.ctx.Err() != nil {
				return nil, c.ctx.Err()
			}
			return c.renderOp(rec), nil
		case <-t.C:
		}
		if delay < 500*time.Millisecond {
			delay *= 2
		}
	}
}

// opEntries lists the project's operations in the given scope ("" = all),
// refreshing the running ones.
func (c *call) opEntries(scope string) ([]entry, error) {
	items, _, err := c.g.opsOf(c.project).List(c.ctx)
	if err != nil {
		return nil, err
	}
	es := make([]entry, 0, len(items))
	for _, it := range items {
		rec := it.Val
		s := opScope{rec.Zone, rec.Region}.key()
		if scope != "" && s != scope {
			continue
		}
		if rec.Status != opDone {
			if rec, err = c.refresh(rec); err != nil {
				return nil, err
			}
		}
		es = append(es, entry{scope: s, name: rec.Name, created: gceTime(rec.Insert), v: c.renderOp(rec)})
	}
	return es, nil
}

func (g *Gateway) listZoneOperations(c *call) (any, error) {
	zone := c.r.PathValue("zone")
	if _, err := c.zoneByName(zone); err != nil {
		return nil, err
	}
	es, err := c.opEntries("zones/" + zone)
	if err != nil {
		return nil, err
	}
	return c.list("compute#operationList", c.link("zones", zone, "operations"), es)
}

func (g *Gateway) listRegionOperations(c *call) (any, error) {
	region := c.r.PathValue("region")
	if _, err := c.regionZones(region); err != nil {
		return nil, err
	}
	es, err := c.opEntries("regions/" + region)
	if err != nil {
		return nil, err
	}
	return c.list("compute#operationList", c.link("regions", region, "operations"), es)
}

func (g *Gateway) listGlobalOperations(c *call) (any, error) {
	es, err := c.opEntries("global")
	if err != nil {
		return nil, err
	}
	return c.list("compute#operationList", c.link("global", "operations"), es)
}

func (g *Gateway) aggregatedOperations(c *call) (any, error) {
	es, err := c.opEntries("")
	if err != nil {
		return nil, err
	}
	return c.aggregated("compute#operationAggregatedList", "operations", c.link("aggregated", "operations"), es, nil)
}

// DefaultOperationTTL is how long finished operations stay readable by
// default (Options.OperationTTL).
const DefaultOperationTTL = 24 * time.Hour

// sweepOperations deletes finished operations older than OperationTTL.
func (g *Gateway) sweepOperations(ctx context.Context) {
	res, err := g.st.List(ctx, "/gce/operations/", store.ListOptions{})
	if err != nil {
		g.log.Warn("sweep operations", "err", err)
		return
	}
	cutoff := g.now().Add(-g.opts.OperationTTL)
	for _, kv := range res.KVs {
		var rec opRecord
		if err := jsonUnmarshal(kv.Value, &rec); err != nil {
			continue
		}
		if rec.Status == opDone && rec.End.Before(cutoff) {
			if _, err := g.st.Txn(ctx, store.DeleteAt(kv.Key, kv.ModRev)); err != nil && !errors.Is(err, store.ErrConflict) {
				g.log.Warn("sweep operations", "err", err)
			}
		}
	}
}

// natStep moves an insert's external address along once the jobs before
// it are done; more is true while there is still a job to wait for. A
// failure leaves the instance without an external address (and logged),
// not the insert failed.
func (c *call) natStep(rec *opRecord) (more bool, err error) {
	n := *rec.NAT
	switch n.Phase {
	case 0:
		vms, err := c.cs.ListVirtualMachines(c.ctx, csclient.Params("id", n.VMID))
		if err != nil || len(vms) == 0 || len(vms[0].Nic) == 0 {
			c.g.log.Warn("external address: VM not found", "vm", n.VMID, "err", err)
			break
		}
		if vms[0].PublicIP != "" {
			break
		}
		res, err := c.cs.Async(c.ctx, "associateIpAddress", csclient.Params("networkid", vms[0].Nic[0].NetworkID, "zoneid", n.ZoneID))
		if err != nil {
			c.g.log.Warn("external address: acquire public IP", "vm", n.VMID, "err", err)
			break
		}
		n.Phase, n.IPID = 1, res.ID
		_, _, err = c.g.opsOf(c.project).Update(c.ctx, rec.Name, func(cur *opRecord) (*opRecord, error) {
			cur.NAT, cur.Jobs = &n, []string{res.JobID}
			return cur, nil
		})
		return true, err
	case 1:
		if err := c.cs.Do(c.ctx, "enableStaticNat", csclient.Params("ipaddressid", n.IPID, "virtualmachineid", n.VMID), nil); err != nil {
			c.g.log.Warn("external address: static NAT", "vm", n.VMID, "err", err)
			break
		}
		// Not every CloudStack shows the address on the VM (publicip),
		// so the gateway remembers it.
		var ips struct {
			IPs []struct {
				IPAddress string `json:"ipaddress"`
			} `json:"publicipaddress"`
		}
		if err := c.cs.Do(c.ctx, "listPublicIpAddresses", csclient.Params("id", n.IPID), &ips); err != nil || len(ips.IPs) == 0 {
			c.g.log.Warn("external address: read public IP", "ip", n.IPID, "err", err)
		}
		addr := ""
		if len(ips.IPs) > 0 {
			addr = ips.IPs[0].IPAddress
		}
		zone, name := rec.Zone, lastSegment(rec.Target)
		if err := c.updateMeta(zone, &csclient.VirtualMachine{ID: n.VMID, Name: name}, func(m *instanceMeta) { m.NATIPID, m.NATIP = n.IPID, addr }); err != nil {
			return false, err
		}
	}
	return false, nil
}
