// Package csfake is a small in-memory CloudStack API for the GCE
// gateway's unit tests and benchmarks: it checks signatures as CloudStack
// does and serves the two dozen commands the gateway calls, with async
// jobs that finish at once. End-to-end tests run against the real
// simulator (internal/cloudstack) instead.
package csfake

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Keys of the fake's one account.
const (
	APIKey    = "fake-api-key"
	SecretKey = "fake-secret-key"
	Account   = "admin"
)

// Server is the fake CloudStack.
type Server struct {
	mu sync.Mutex
	// MaxVMs makes deployVirtualMachine jobs fail with 533 beyond it (0:
	// no limit).
	MaxVMs int
	// Calls counts commands served.
	Calls map[string]int

	seq      int
	vms      map[string]map[string]any
	sgs      map[string]map[string]any
	keys     map[string]map[string]any
	networks map[string]map[string]any
	jobs     map[string]map[string]any
}

// New returns a fake with two zones, three offerings and four templates.
func New() *Server {
	s := &Server{Calls: map[string]int{}, vms: map[string]map[string]any{}, sgs: map[string]map[string]any{},
		keys: map[string]map[string]any{}, networks: map[string]map[string]any{}, jobs: map[string]map[string]any{}}
	s.sgs["sg-default"] = map[string]any{"id": "sg-default", "name": "default", "description": "Default Security Group", "account": Account}
	return s
}

var zones = []map[string]any{
	{"id": "z1", "name": "Sandbox-simulator", "networktype": "Advanced", "allocationstate": "Enabled", "securitygroupsenabled": false},
	{"id": "z2", "name": "Sandbox-simulator-basic", "networktype": "Basic", "allocationstate": "Enabled", "securitygroupsenabled": true},
}

var offerings = []map[string]any{
	{"id": "so1", "name": "Small", "displaytext": "Small: 1 CPU, 2 GB", "cpunumber": 1, "cpuspeed": 2000, "memory": 2048, "created": "2024-01-01T00:00:00+0000"},
	{"id": "so2", "name": "Medium", "displaytext": "Medium: 2 CPUs, 4 GB", "cpunumber": 2, "cpuspeed": 2000, "memory": 4096, "created": "2024-01-01T00:00:00+0000"},
	{"id": "so3", "name": "Large", "displaytext": "Large: 4 CPUs, 8 GB", "cpunumber": 4, "cpuspeed": 2000, "memory": 8192, "created": "2024-01-01T00:00:00+0000"},
}

var templates = []map[string]any{
	{"id": "t1", "name": "CentOS 5.6 (64-bit) no GUI (Simulator)", "displaytext": "CentOS 5.6", "ostypename": "CentOS 5.6 (64-bit)", "isready": true, "ispublic": true, "account": "system", "size": 2147483648, "created": "2024-01-01T00:00:00+0000"},
	{"id": "t2", "name": "Debian 12", "displaytext": "Debian 12 (bookworm)", "ostypename": "Debian GNU/Linux 12 (64-bit)", "isready": true, "ispublic": true, "account": "system", "size": 2147483648, "created": "2024-01-02T00:00:00+0000"},
	{"id": "t3", "name": "Ubuntu 22.04", "displaytext": "Ubuntu 22.04 LTS", "ostypename": "Ubuntu 22.04 LTS", "isready": true, "ispublic": true, "account": "system", "size": 3221225472, "created": "2024-01-03T00:00:00+0000"},
	{"id": "t4", "name": "my-golden", "displaytext": "my own image", "ostypename": "Other Linux (64-bit)", "isready": true, "ispublic": false, "account": Account, "size": 1073741824, "created": "2024-01-04T00:00:00+0000"},
}

// apiError is a CloudStack error answer.
type apiError struct {
	code int
	text string
}

func (s *Server) id(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s-%04d", prefix, s.seq)
}

// ServeHTTP serves /client/api.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	p := r.Form
	cmd := p.Get("command")
	name := strings.ToLower(cmd) + "response"
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{name: v})
	}
	if !s.verify(p) {
		reply(401, map[string]any{"errorcode": 401, "errortext": "unable to verify user credentials and/or request signature"})
		return
	}
	s.mu.Lock()
	s.Calls[cmd]++
	out, err := s.dispatch(cmd, p)
	s.mu.Unlock()
	if err != nil {
		reply(err.code, map[string]any{"errorcode": err.code, "cserrorcode": 4350, "errortext": err.text})
		return
	}
	reply(200, out)
}

func (s *Server) verify(p url.Values) bool {
	if p.Get("apiKey") != APIKey {
		return false
	}
	keys := make([]string, 0, len(p))
	for k := range p {
		if k != "signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		v := strings.ReplaceAll(url.QueryEscape(p.Get(k)), "+", "%20")
		v = strings.ReplaceAll(v, "%2A", "*")
		parts = append(parts, k+"="+v)
	}
	mac := hmac.New(sha1.New, []byte(SecretKey))
	mac.Write([]byte(strings.ToLower(strings.Join(parts, "&"))))
	return hmac.Equal([]byte(base64.StdEncoding.EncodeToString(mac.Sum(nil))), []byte(p.Get("signature")))
}

func listOf(key string, items []map[string]any) map[string]any {
	if len(items) == 0 {
		return map[string]any{}
	}
	return map[string]any{"count": len(items), key: items}
}

func sorted(m map[string]map[string]any) []map[string]any {
	out := make([]map[string]any, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i]["id"].(string) < out[j]["id"].(string) })
	return out
}

func (s *Server) job(result map[string]any, failCode int, failText string) map[string]any {
	id := s.id("job")
	j := map[string]any{"jobid": id, "jobstatus": 1, "jobresultcode": 0, "jobresulttype": "object", "jobresult": result}
	if failCode != 0 {
		j["jobstatus"], j["jobresultcode"] = 2, failCode
		j["jobresult"] = map[string]any{"errorcode": failCode, "errortext": failText}
	}
	s.jobs[id] = j
	return j
}

func (s *Server) dispatch(cmd string, p url.Values) (any, *apiError) {
	switch cmd {
	case "listUsers":
		return listOf("user", []map[string]any{{"id": "u1", "username": "admin", "account": Account, "accountid": "acc1", "domainid": "d1", "apikey": APIKey}}), nil
	case "listAccounts":
		return listOf("account", []map[string]any{{"id": "acc1", "name": Account, "domainid": "d1", "cpulimit": "Unlimited", "cputotal": len(s.vms), "vmlimit": "20", "vmtotal": len(s.vms), "created": "2024-01-01T00:00:00+0000"}}), nil
	case "listZones":
		return listOf("zone", zones), nil
	case "listServiceOfferings":
		return listOf("serviceoffering", offerings), nil
	case "listTemplates":
		if p.Get("templatefilter") == "" {
			return nil, &apiError{431, "Unable to execute API command listtemplates due to missing parameter templatefilter"}
		}
		return listOf("template", templates), nil
	case "listNetworkOfferings":
		return listOf("networkoffering", []map[string]any{{"id": "no1", "name": "DefaultIsolatedNetworkOfferingWithSourceNatService", "guestiptype": "Isolated", "state": "Enabled", "isdefault": true, "service": []map[string]any{{"name": "SourceNat"}}}}), nil
	case "listNetworks":
		var out []map[string]any
		for _, n := range sorted(s.networks) {
			if z := p.Get("zoneid"); z == "" || n["zoneid"] == z {
				out = append(out, n)
			}
		}
		return listOf("network", out), nil
	case "createNetwork":
		n := map[string]any{"id": s.id("net"), "name": p.Get("name"), "zoneid": p.Get("zoneid"), "type": "Isolated", "state": "Allocated"}
		s.networks[n["id"].(string)] = n
		return map[string]any{"network": n}, nil
	case "listVirtualMachines":
		var out []map[string]any
		for _, vm := range sorted(s.vms) {
			if z := p.Get("zoneid"); z != "" && vm["zoneid"] != z {
				continue
			}
			if n := p.Get("name"); n != "" && !strings.Contains(vm["name"].(string), n) {
				continue
			}
			c := map[string]any{}
			for k, v := range vm {
				if k != "userdata" || p.Get("userdata") == "true" {
					c[k] = v
				}
			}
			out = append(out, c)
		}
		return listOf("virtualmachine", out), nil
	case "deployVirtualMachine":
		for _, k := range []string{"zoneid", "serviceofferingid", "templateid"} {
			if p.Get(k) == "" {
				return nil, &apiError{431, "Unable to execute API command deployvirtualmachine due to missing parameter " + k}
			}
		}
		var so map[string]any
		for _, o := range offerings {
			if o["id"] == p.Get("serviceofferingid") {
				so = o
			}
		}
		if so == nil {
			return nil, &apiError{431, "Unable to execute API command deployvirtualmachine due to invalid value. Invalid parameter serviceofferingid"}
		}
		id := s.id("vm")
		if s.MaxVMs < 0 || (s.MaxVMs > 0 && len(s.vms) >= s.MaxVMs) {
			j := s.job(nil, 533, "Unable to create a deployment for VM[User|"+p.Get("name")+"]")
			return map[string]any{"id": id, "jobid": j["jobid"]}, nil
		}
		n := len(s.vms) + 2
		vm := map[string]any{"id": id, "name": p.Get("name"), "displayname": p.Get("displayname"), "account": Account,
			"state": "Running", "zoneid": p.Get("zoneid"), "templateid": p.Get("templateid"), "templatename": "tmpl",
			"serviceofferingid": so["id"], "serviceofferingname": so["name"], "cpunumber": so["cpunumber"], "memory": so["memory"],
			"created": "2024-02-01T10:00:00+0000",
			"nic":     []map[string]any{{"id": "nic-" + id, "networkid": p.Get("networkids"), "ipaddress": "10.1.1." + strconv.Itoa(n), "netmask": "255.255.255.0", "macaddress": "02:00:00:00:00:01", "isdefault": true}}}
		if ud := p.Get("userdata"); ud != "" {
			vm["userdata"] = ud
		}
		s.vms[id] = vm
		j := s.job(map[string]any{"virtualmachine": vm}, 0, "")
		return map[string]any{"id": id, "jobid": j["jobid"]}, nil
	case "startVirtualMachine", "stopVirtualMachine", "rebootVirtualMachine", "destroyVirtualMachine":
		vm := s.vms[p.Get("id")]
		if vm == nil {
			return nil, &apiError{431, "Unable to execute API command due to invalid value. Invalid parameter id value=" + p.Get("id") + " due to incorrect long value format, or entity does not exist"}
		}
		switch cmd {
		case "startVirtualMachine":
			vm["state"] = "Running"
		case "stopVirtualMachine":
			vm["state"] = "Stopped"
		case "rebootVirtualMachine":
			if vm["state"] != "Running" {
				return nil, &apiError{431, "VM is not running"}
			}
		case "destroyVirtualMachine":
			delete(s.vms, p.Get("id"))
			vm["state"] = "Expunging"
		}
		j := s.job(map[string]any{"virtualmachine": vm}, 0, "")
		return map[string]any{"jobid": j["jobid"]}, nil
	case "updateVirtualMachine":
		vm := s.vms[p.Get("id")]
		if vm == nil {
			return nil, &apiError{431, "entity does not exist"}
		}
		if ud := p.Get("userdata"); ud != "" {
			vm["userdata"] = ud
		}
		return map[string]any{"virtualmachine": vm}, nil
	case "queryAsyncJobResult":
		j := s.jobs[p.Get("jobid")]
		if j == nil {
			return nil, &apiError{431, "entity does not exist"}
		}
		return j, nil
	case "listSecurityGroups":
		var out []map[string]any
		for _, sg := range sorted(s.sgs) {
			if n := p.Get("securitygroupname"); n == "" || sg["name"] == n {
				out = append(out, sg)
			}
		}
		return listOf("securitygroup", out), nil
	case "createSecurityGroup":
		for _, sg := range s.sgs {
			if sg["name"] == p.Get("name") {
				return nil, &apiError{431, "Unable to create security group, a group with name " + p.Get("name") + " already exists."}
			}
		}
		sg := map[string]any{"id": s.id("sg"), "name": p.Get("name"), "description": p.Get("description"), "account": Account}
		s.sgs[sg["id"].(string)] = sg
		return map[string]any{"securitygroup": sg}, nil
	case "deleteSecurityGroup":
		if s.sgs[p.Get("id")] == nil {
			return nil, &apiError{431, "entity does not exist"}
		}
		if p.Get("id") == "sg-default" {
			return nil, &apiError{536, "The default security group cannot be removed"}
		}
		delete(s.sgs, p.Get("id"))
		return map[string]any{"success": true}, nil
	case "authorizeSecurityGroupIngress", "authorizeSecurityGroupEgress":
		sg := s.sgs[p.Get("securitygroupid")]
		if sg == nil {
			return nil, &apiError{431, "entity does not exist"}
		}
		key := "ingressrule"
		if cmd == "authorizeSecurityGroupEgress" {
			key = "egressrule"
		}
		rules, _ := sg[key].([]map[string]any)
		for _, cidr := range strings.Split(p.Get("cidrlist"), ",") {
			r := map[string]any{"ruleid": s.id("rule"), "protocol": p.Get("protocol"), "cidr": cidr}
			for _, k := range []string{"startport", "endport", "icmptype", "icmpcode"} {
				if v := p.Get(k); v != "" {
					n, _ := strconv.Atoi(v)
					r[k] = n
				}
			}
			rules = append(rules, r)
		}
		sg[key] = rules
		j := s.job(map[string]any{"securitygroup": sg}, 0, "")
		return map[string]any{"jobid": j["jobid"]}, nil
	case "revokeSecurityGroupIngress", "revokeSecurityGroupEgress":
		key := "ingressrule"
		if cmd == "revokeSecurityGroupEgress" {
			key = "egressrule"
		}
		for _, sg := range s.sgs {
			rules, _ := sg[key].([]map[string]any)
			for i, r := range rules {
				if r["ruleid"] == p.Get("id") {
					sg[key] = append(rules[:i:i], rules[i+1:]...)
					j := s.job(map[string]any{"success": true}, 0, "")
					return map[string]any{"jobid": j["jobid"]}, nil
				}
			}
		}
		return nil, &apiError{431, "entity does not exist"}
	case "listSSHKeyPairs":
		return listOf("sshkeypair", sorted(s.keys)), nil
	case "registerSSHKeyPair":
		if s.keys[p.Get("name")] != nil {
			return nil, &apiError{431, "A key pair with name '" + p.Get("name") + "' already exists."}
		}
		k := map[string]any{"id": p.Get("name"), "name": p.Get("name"), "fingerprint": "aa:bb"}
		s.keys[p.Get("name")] = k
		return map[string]any{"keypair": k}, nil
	case "deleteSSHKeyPair":
		if s.keys[p.Get("name")] == nil {
			return nil, &apiError{431, "A key pair with name '" + p.Get("name") + "' does not exist"}
		}
		delete(s.keys, p.Get("name"))
		return map[string]any{"success": true}, nil
	case "listVolumes":
		var out []map[string]any
		for _, vm := range sorted(s.vms) {
			if z := p.Get("zoneid"); z != "" && vm["zoneid"] != z {
				continue
			}
			out = append(out, map[string]any{"id": "vol-" + vm["id"].(string), "name": "ROOT-" + vm["id"].(string), "zoneid": vm["zoneid"],
				"type": "ROOT", "size": 21474836480, "state": "Ready", "virtualmachineid": vm["id"], "vmname": vm["name"], "templateid": vm["templateid"],
				"created": "2024-02-01T10:00:00+0000"})
		}
		return listOf("volume", out), nil
	}
	return nil, &apiError{432, "The given command does not exist or it is not available for user"}
}
