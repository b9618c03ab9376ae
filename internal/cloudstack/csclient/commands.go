package csclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// pageSize is the page size the client asks lists for; real CloudStack
// caps unpaged lists at default.page.size.
const pageSize = 500

// maxPages bounds a list walk.
const maxPages = 1000

// list calls a list command page by page and gathers the items under key.
func list[T any](ctx context.Context, c *Client, command, key string, params url.Values) ([]T, error) {
	var all []T
	q := url.Values{}
	for k, v := range params {
		q[k] = v
	}
	q.Set("pagesize", strconv.Itoa(pageSize))
	for page := 1; page <= maxPages; page++ {
		q.Set("page", strconv.Itoa(page))
		pg := listPage[T]{key: key}
		if err := c.Do(ctx, command, q, &pg); err != nil {
			return nil, err
		}
		all = append(all, pg.items...)
		if len(pg.items) < pageSize || int64(len(all)) >= int64(pg.count) {
			break
		}
	}
	return all, nil
}

// listPage is one page of a list answer: the items under key, and count.
type listPage[T any] struct {
	key   string
	items []T
	count Int
}

// decodeAnswer decodes a whole answer, {"<command>response": {"count": N,
// "<key>": [...]}}, in one pass into a struct type made for the command
// and the key, rather than through a map at each level (three passes over
// the items, and their copies): the cloud-init follower and the cloud
// controller list every VM again and again. It reports false when the
// answer has no such envelope.
func (p *listPage[T]) decodeAnswer(command string, body []byte) (bool, error) {
	inner := reflect.StructOf([]reflect.StructField{
		{Name: "Count", Type: reflect.TypeFor[Int](), Tag: `json:"count"`},
		{Name: "Items", Type: reflect.TypeFor[[]T](), Tag: reflect.StructTag(`json:"` + p.key + `"`)},
	})
	outer := reflect.StructOf([]reflect.StructField{
		{Name: "R", Type: reflect.PointerTo(inner), Tag: reflect.StructTag(`json:"` + strings.ToLower(command) + `response"`)},
	})
	v := reflect.New(outer)
	if err := json.Unmarshal(body, v.Interface()); err != nil {
		return true, fmt.Errorf("decode %s: %w", p.key, err)
	}
	r := v.Elem().Field(0)
	if r.IsNil() {
		return false, nil
	}
	p.count = r.Elem().Field(0).Interface().(Int)
	p.items = r.Elem().Field(1).Interface().([]T)
	return true, nil
}

// UnmarshalJSON reads the response object of an answer whose envelope
// decodeAnswer did not recognise.
func (p *listPage[T]) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if v, ok := raw[p.key]; ok {
		if err := json.Unmarshal(v, &p.items); err != nil {
			return fmt.Errorf("decode %s: %w", p.key, err)
		}
	}
	if v, ok := raw["count"]; ok {
		_ = json.Unmarshal(v, &p.count)
	}
	return nil
}

// Params builds url.Values from name/value pairs, leaving out empty values.
func Params(kv ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	return q
}

// ListZones lists the zones the key pair sees.
func (c *Client) ListZones(ctx context.Context) ([]Zone, error) {
	return list[Zone](ctx, c, "listZones", "zone", nil)
}

// ListServiceOfferings lists the non-system service offerings.
func (c *Client) ListServiceOfferings(ctx context.Context) ([]ServiceOffering, error) {
	return list[ServiceOffering](ctx, c, "listServiceOfferings", "serviceoffering", nil)
}

// ListTemplates lists templates by filter (executable, self, …).
func (c *Client) ListTemplates(ctx context.Context, filter string) ([]Template, error) {
	return list[Template](ctx, c, "listTemplates", "template", Params("templatefilter", filter))
}

// ListVirtualMachines lists VMs matching params (zoneid, name, id, userdata).
func (c *Client) ListVirtualMachines(ctx context.Context, params url.Values) ([]VirtualMachine, error) {
	return list[VirtualMachine](ctx, c, "listVirtualMachines", "virtualmachine", params)
}

// ListSecurityGroups lists the account's security groups.
func (c *Client) ListSecurityGroups(ctx context.Context, params url.Values) ([]SecurityGroup, error) {
	return list[SecurityGroup](ctx, c, "listSecurityGroups", "securitygroup", params)
}

// ListSSHKeyPairs lists the account's SSH key pairs.
func (c *Client) ListSSHKeyPairs(ctx context.Context) ([]SSHKeyPair, error) {
	return list[SSHKeyPair](ctx, c, "listSSHKeyPairs", "sshkeypair", nil)
}

// ListVolumes lists volumes matching params.
func (c *Client) ListVolumes(ctx context.Context, params url.Values) ([]Volume, error) {
	return list[Volume](ctx, c, "listVolumes", "volume", params)
}

// ListAccounts lists accounts matching params.
func (c *Client) ListAccounts(ctx context.Context, params url.Values) ([]Account, error) {
	return list[Account](ctx, c, "listAccounts", "account", params)
}

// ListUsers lists users matching params.
func (c *Client) ListUsers(ctx context.Context, params url.Values) ([]User, error) {
	return list[User](ctx, c, "listUsers", "user", params)
}

// ListNetworks lists networks matching params.
func (c *Client) ListNetworks(ctx context.Context, params url.Values) ([]Network, error) {
	return list[Network](ctx, c, "listNetworks", "network", params)
}

// ListNetworkOfferings lists network offerings matching params.
func (c *Client) ListNetworkOfferings(ctx context.Context, params url.Values) ([]NetworkOffering, error) {
	return list[NetworkOffering](ctx, c, "listNetworkOfferings", "networkoffering", params)
}

// Async calls an async command and returns its id and job id.
func (c *Client) Async(ctx context.Context, command string, params url.Values) (AsyncResult, error) {
	var r AsyncResult
	err := c.Do(ctx, command, params, &r)
	if err == nil && r.JobID == "" {
		err = fmt.Errorf("cloudstack %s: no jobid in answer", command)
	}
	return r, err
}

// QueryJob returns the state of an async job.
func (c *Client) QueryJob(ctx context.Context, jobID string) (Job, error) {
	var j Job
	err := c.Do(ctx, "queryAsyncJobResult", Params("jobid", jobID), &j)
	return j, err
}

// CreateSecurityGroup creates a security group.
func (c *Client) CreateSecurityGroup(ctx context.Context, name, description string) (SecurityGroup, error) {
	var r struct {
		SG SecurityGroup `json:"securitygroup"`
	}
	err := c.Do(ctx, "createSecurityGroup", Params("name", name, "description", description), &r)
	return r.SG, err
}

// RegisterSSHKeyPair registers a public key under name.
func (c *Client) RegisterSSHKeyPair(ctx context.Context, name, publicKey string) error {
	return c.Do(ctx, "registerSSHKeyPair", Params("name", name, "publickey", publicKey), nil)
}

// CreateNetwork creates a guest network.
func (c *Client) CreateNetwork(ctx context.Context, params url.Values) (Network, error) {
	var r struct {
		Network Network `json:"network"`
	}
	err := c.Do(ctx, "createNetwork", params, &r)
	return r.Network, err
}

// jobPoll is how often Wait asks for a job's state.
const jobPoll = 20 * time.Millisecond

// Wait polls an async job until it ends or ctx does, and returns it; a
// failed job is an *Error carrying the job's code and text.
func (c *Client) Wait(ctx context.Context, command, jobID string) (Job, error) {
	t := time.NewTicker(jobPoll)
	defer t.Stop()
	for {
		j, err := c.QueryJob(ctx, jobID)
		if err != nil {
			return j, err
		}
		switch j.JobStatus {
		case JobSucceeded:
			return j, nil
		case JobFailed:
			code, text := j.Failure()
			return j, &Error{Command: command, HTTPStatus: code, ErrorCode: code, Text: text}
		}
		select {
		case <-ctx.Done():
			return j, ctx.Err()
		case <-t.C:
		}
	}
}

// AsyncWait calls an async command, waits for its job and decodes the
// job result's key (for example "loadbalancer") into out (nil: ignored).
func (c *Client) AsyncWait(ctx context.Context, command string, params url.Values, key string, out any) error {
	r, err := c.Async(ctx, command, params)
	if err != nil {
		return err
	}
	j, err := c.Wait(ctx, command, r.JobID)
	if err != nil || out == nil {
		return err
	}
	var res map[string]json.RawMessage
	if err := json.Unmarshal(j.JobResult, &res); err != nil {
		return fmt.Errorf("cloudstack %s: decode job result: %w", command, err)
	}
	if v, ok := res[key]; ok {
		return json.Unmarshal(v, out)
	}
	return fmt.Errorf("cloudstack %s: no %s in job result", command, key)
}

// ListLoadBalancerRules lists load balancer rules.
func (c *Client) ListLoadBalancerRules(ctx context.Context, params url.Values) ([]LoadBalancerRule, error) {
	return list[LoadBalancerRule](ctx, c, "listLoadBalancerRules", "loadbalancerrule", params)
}

// ListLoadBalancerRuleInstances lists the VMs of a load balancer rule.
func (c *Client) ListLoadBalancerRuleInstances(ctx context.Context, params url.Values) ([]VirtualMachine, error) {
	return list[VirtualMachine](ctx, c, "listLoadBalancerRuleInstances", "loadbalancerruleinstance", params)
}

// ConsoleOutput returns what the VM's guest wrote to its console
// (getVirtualMachineConsoleOutput, stratus's own command: a real
// CloudStack answers it as an unknown command, an error here).
func (c *Client) ConsoleOutput(ctx context.Context, vmID string) (string, error) {
	var out struct {
		ConsoleOutput struct {
			Output string `json:"output"`
		} `json:"consoleoutput"`
	}
	err := c.Do(ctx, "getVirtualMachineConsoleOutput", Params("id", vmID), &out)
	return out.ConsoleOutput.Output, err
}

// ListEvents calls listEvents.
func (c *Client) ListEvents(ctx context.Context, params url.Values) ([]Event, error) {
	var out struct {
		Event []Event `json:"event"`
	}
	err := c.Do(ctx, "listEvents", params, &out)
	return out.Event, err
}
