"""Drive the CloudStack networking family with Apache libcloud's driver.

Run by TestLibcloudNetworking with CLOUDSTACK_ENDPOINT, CLOUDSTACK_KEY and
CLOUDSTACK_SECRET set. list_nodes comes first (it lists port and IP
forwarding rules on every call), then the driver's ex_ methods for public
addresses, port forwarding, IP forwarding, firewall and egress rules,
network offerings, networks and NICs. Prints "OK" when every check passed.
"""
import os
import sys

from libcloud.compute.providers import get_driver
from libcloud.compute.types import NodeState, Provider


def check(cond, what):
    if not cond:
        print("FAIL: " + what)
        sys.exit(1)


cls = get_driver(Provider.CLOUDSTACK)
url = os.environ["CLOUDSTACK_ENDPOINT"]
drv = cls(key=os.environ["CLOUDSTACK_KEY"], secret=os.environ["CLOUDSTACK_SECRET"], url=url,
          secure=url.startswith("https:"))

# list_nodes on an empty account, then with a node
check(drv.list_nodes() == [], "list_nodes on an empty account")
zone = [l for l in drv.list_locations() if l.name == "Sandbox-simulator"][0]
size = [s for s in drv.list_sizes() if s.name == "Micro"][0]
image = [i for i in drv.list_images(location=zone) if i.name == "Debian 12"][0]
node = drv.create_node(name="lc-web", size=size, image=image, location=zone, ex_start_vm=True)
# (its default waits for a public address too: the VM has a private one)
node, _ = drv.wait_until_running([node], wait_period=1, timeout=30, ssh_interface="private_ips")[0]
check(node.state == NodeState.RUNNING, "node running: %s" % node.state)
got = drv.ex_get_node(node.id)
check(got.id == node.id and got.private_ips, "ex_get_node: %r" % got)
nodes = drv.list_nodes(location=zone)
check(len(nodes) == 1 and nodes[0].extra["port_forwarding_rules"] == [], "list_nodes: %r" % nodes)

# the account's network got a source NAT address with the first VM
ips = drv.ex_list_public_ips()
check(len(ips) == 1, "source NAT address: %r" % ips)
addr = drv.ex_allocate_public_ip(location=zone)
check(addr.address and addr.id, "allocated %r" % addr)
check(len(drv.ex_list_public_ips()) == 2, "two addresses")

# port forwarding: created, seen by list_nodes and ex_get_node, deleted
pf = drv.ex_create_port_forwarding_rule(node, addr, 22, 2222, "TCP")
check(pf.id and pf.public_port == 2222, "port forwarding rule %r" % pf)
rules = drv.ex_list_port_forwarding_rules()
check(len(rules) == 1 and rules[0].id == pf.id and str(rules[0].private_port) == "22", "listed %r" % rules)
n = [x for x in drv.list_nodes() if x.id == node.id][0]
check([r.id for r in n.extra["port_forwarding_rules"]] == [pf.id], "list_nodes rules: %r" % n.extra)
check(addr.address in n.public_ips, "list_nodes public ips: %r" % n.public_ips)
# now it has a public address: the default wait_until_running sees it
_, pubs = drv.wait_until_running([node], wait_period=1, timeout=30)[0]
check(pubs == [addr.address], "public addresses when running: %r" % pubs)
g = drv.ex_get_node(node.id)
check([r.id for r in g.extra["port_forwarding_rules"]] == [pf.id], "ex_get_node rules: %r" % g.extra)
# openfirewall (the default) opened the public port
fws = drv.ex_list_firewall_rules()
check(len(fws) == 1 and str(fws[0].start_port) == "2222", "firewall opened for the rule: %r" % fws)

# a conflicting rule is refused with the API's error, and changes nothing
try:
    drv.ex_create_port_forwarding_rule(node, addr, 80, 2222, "TCP")
    check(False, "conflicting port forwarding rule accepted")
except Exception as e:
    check("conflicts with rule" in str(e), "conflict error: %s" % e)
check(len(drv.ex_list_port_forwarding_rules()) == 1, "conflict changed nothing")

# firewall rules
fw = drv.ex_create_firewall_rule(addr, "10.0.0.0/8", "TCP", start_port=80, end_port=81)
check(fw.id, "firewall rule %r" % fw)
check(len(drv.ex_list_firewall_rules()) == 2, "two firewall rules")
icmp = drv.ex_create_firewall_rule(addr, "0.0.0.0/0", "ICMP", icmp_type=8, icmp_code=0)
listed = [r for r in drv.ex_list_firewall_rules() if r.id == icmp.id]
check(len(listed) == 1 and str(listed[0].icmp_type) == "8", "icmp rule %r" % listed)
check(drv.ex_delete_firewall_rule(fw) and drv.ex_delete_firewall_rule(icmp), "firewall rules deleted")

# egress rules on the guest network
net = [x for x in drv.ex_list_networks() if x.id == drv.ex_list_nics(node)[0].network_id][0]
eg = drv.ex_create_egress_firewall_rule(net.id, "10.1.1.0/24", "TCP", start_port=443, end_port=443)
egs = drv.ex_list_egress_firewall_rules()
check(len(egs) == 1 and egs[0].id == eg.id and egs[0].network_id == net.id, "egress rules %r" % egs)
check(drv.ex_delete_egress_firewall_rule(eg), "egress rule deleted")

check(drv.ex_delete_port_forwarding_rule(n, [r for r in n.extra["port_forwarding_rules"]][0]), "port forwarding rule deleted")
check(drv.ex_list_port_forwarding_rules() == [], "no port forwarding rules")
check(drv.ex_list_firewall_rules() == [], "the opened firewall rule went with it")

# IP forwarding needs static NAT (libcloud has no method for enabling it;
# its own signed request path sends the call)
drv._sync_request(command="enableStaticNat", params={"ipaddressid": addr.id, "virtualmachineid": node.id}, method="GET")
ipf = drv.ex_create_ip_forwarding_rule(node, addr, "TCP", 8080, 8081)
check(ipf.id, "ip forwarding rule %r" % ipf)
listed = drv.ex_list_ip_forwarding_rules()
check(len(listed) == 1 and listed[0].start_port == 8080 and listed[0].end_port == 8081, "ip forwarding listed %r" % listed)
n = [x for x in drv.list_nodes() if x.id == node.id][0]
check([r.id for r in n.extra["ip_forwarding_rules"]] == [ipf.id], "list_nodes ip forwarding: %r" % n.extra)
check(addr.address in n.public_ips, "static NAT address on the node: %r" % n.public_ips)
check(n.extra["ip_addresses"][0].address == addr.address, "ip_addresses: %r" % n.extra["ip_addresses"])
g = drv.ex_get_node(node.id)
check(addr.address in g.public_ips and len(g.extra["ip_forwarding_rules"]) == 1, "ex_get_node static NAT: %r %r" % (g.public_ips, g.extra))
check(drv.ex_delete_ip_forwarding_rule(n, n.extra["ip_forwarding_rules"][0]), "ip forwarding rule deleted")
check(drv.ex_list_ip_forwarding_rules() == [], "no ip forwarding rules")
drv._async_request(command="disableStaticNat", params={"ipaddressid": addr.id}, method="GET")
check(drv.ex_release_public_ip(addr), "address released")
check(len(drv.ex_list_public_ips()) == 1, "back to the source NAT address")

# network offerings (serviceofferingid read), networks and NICs
offs = drv.ex_list_network_offerings()
iso = [o for o in offs if o.guest_ip_type == "Isolated"][0]
net2 = drv.ex_create_network("second", "second", iso, zone, gateway="10.9.0.1", netmask="255.255.255.0")
check(net2.id, "network %r" % net2)
check(drv.ex_attach_nic_to_node(node, net2), "nic attached")
nics = drv.ex_list_nics(node)
check(len(nics) == 2, "two nics: %r" % nics)
extra = [x for x in nics if x.network_id == net2.id][0]
check(extra.ip_address.startswith("10.9.0.") and not extra.is_default, "second nic %r" % extra)
check(extra.extra["secondary_ip"] == [], "secondary ips: %r" % extra.extra)
check(drv.ex_detach_nic_from_node(extra, node), "nic detached")
check(len(drv.ex_list_nics(node)) == 1, "one nic left")
check(drv.ex_delete_network(net2), "network deleted")

check(drv.destroy_node(node, ex_expunge=True), "node destroyed")
check(drv.list_nodes() == [], "no nodes")
print("OK")
