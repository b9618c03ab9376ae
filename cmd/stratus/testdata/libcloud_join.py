"""The life-cycle steps after the seed's provisioning (the README's libcloud
recipe, which TestLibcloudVMsJoin runs first) with Apache libcloud. Run by
TestLibcloudVMsJoin with CLOUDSTACK_ENDPOINT, CLOUDSTACK_KEY,
CLOUDSTACK_SECRET and JOIN (the `stratus join-command` line) set.

  check: the recipe's 8 VMs run, each with an address
  bad: bad-1, whose join line has a wrong token, and k8s-sh, which joins
       with a `#!` script
  stop NAME / start NAME / reboot NAME / destroy NAME: one life-cycle step
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
if what == "check":
    names = ["etcd-%d" % i for i in range(1, 4)] + ["k8s-%d" % i for i in range(1, 6)]
    for name in names:
        got = node(name)
        check(got.state == NodeState.RUNNING and got.private_ips + got.public_ips,
              "%s running with an address: %s %r" % (name, got.state, got))
elif what == "bad":
    zone = [l for l in drv.list_locations() if l.name == "Sandbox-simulator-basic"][0]
    medium = [s for s in drv.list_sizes() if s.name == "Medium"][0]
    image = [i for i in drv.list_images(location=zone) if i.name == "Debian 12"][0]
    join = os.environ["JOIN"]
    bad = join.rsplit("--token", 1)[0] + "--token not-the-token"
    for name, ud in (("bad-1", "#cloud-config\npackages: [curl]\nruncmd:\n  - echo joining\n  - %s\n" % bad),
                     ("k8s-sh", "#!/bin/sh\n" + join + "\n")):
        drv.create_node(name=name, size=medium, image=image, location=zone, ex_keyname="k8s",
                        ex_security_groups=["k8s"], ex_userdata=ud, ex_start_vm=True)
elif what == "stop":
    check(drv.ex_stop(node(sys.argv[2])), "stopped")
elif what == "start":
    check(drv.ex_start(node(sys.argv[2])), "started")
elif what == "reboot":
    check(drv.reboot_node(node(sys.argv[2])), "rebooted")
elif what == "destroy":
    check(drv.destroy_node(node(sys.argv[2]), ex_expunge=True), "destroyed")
print("OK")
