"""The seed's provisioning with Apache libcloud: a key pair, a security group
with TCP/UDP/ICMP rules, and VMs with cloud-config user data in the basic
(security group) zone. Run by TestLibcloudVMsJoin with CLOUDSTACK_ENDPOINT,
CLOUDSTACK_KEY, CLOUDSTACK_SECRET and JOIN (the `stratus join-command`
line) set.

  create: k8s-1, k8s-2 (join, Medium), etcd-1 (no join), bad-1 (wrong token)
  stop NAME / start NAME / destroy NAME: one life-cycle step
Prints "OK" at the end.
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


def node(name):
    found = [n for n in drv.list_nodes() if n.name == name]
    check(len(found) == 1, "one node named %s: %r" % (name, found))
    return found[0]


what = sys.argv[1]
if what == "create":
    zone = [l for l in drv.list_locations() if l.name == "Sandbox-simulator-basic"][0]
    medium = [s for s in drv.list_sizes() if s.name == "Medium"][0]
    image = [i for i in drv.list_images(location=zone) if i.name == "Debian 12"][0]
    kp = drv.create_key_pair("k8s")
    check(kp.private_key, "key pair with a private key")
    drv.ex_create_security_group("k8s")
    for proto, start, end in (("TCP", 1, 65535), ("UDP", 1, 65535)):
        drv.ex_authorize_security_group_ingress("k8s", proto, "0.0.0.0/0", start, end)
    drv.ex_authorize_security_group_ingress("k8s", "ICMP", "0.0.0.0/0", icmptype=-1, icmpcode=-1)
    join = os.environ["JOIN"]
    bad = join.rsplit("--token", 1)[0] + "--token not-the-token"
    cloud_config = "#cloud-config\npackages: [curl]\nruncmd:\n  - echo joining\n  - %s\n"
    etcd = "#cloud-config\nruncmd:\n  - [systemctl, start, etcd]\n"
    made = []
    for name, ud in (("k8s-1", cloud_config % join), ("k8s-2", "#!/bin/sh\n" + join + "\n"),
                     ("etcd-1", etcd), ("bad-1", cloud_config % bad)):
        made.append(drv.create_node(name=name, size=medium, image=image, location=zone, ex_keyname="k8s",
                                    ex_security_groups=["k8s"], ex_userdata=ud, ex_start_vm=True))
    # (create_node waits for the deploy job; wait_until_running would
    # also wait for an address libcloud deems private or public by range)
    for n in made:
        got = drv.ex_get_node(n.id)
        check(got.state == NodeState.RUNNING and got.private_ips + got.public_ips,
              "%s running with an address: %s %r" % (n.name, got.state, got))
elif what == "stop":
    check(drv.ex_stop(node(sys.argv[2])), "stopped")
elif what == "start":
    check(drv.ex_start(node(sys.argv[2])), "started")
elif what == "destroy":
    check(drv.destroy_node(node(sys.argv[2]), ex_expunge=True), "destroyed")
print("OK")
