"""Drive the CloudStack storage family with Apache libcloud's driver.

Run by TestLibcloudStorage with CLOUDSTACK_ENDPOINT, CLOUDSTACK_KEY and
CLOUDSTACK_SECRET set: create_volume (a fixed and a custom disk offering),
list_volumes (all, and of a node), attach_volume, detach_volume,
create_volume_snapshot, list_snapshots, ex_create_snapshot_template,
destroy_volume_snapshot and destroy_volume. Prints "OK" when every check
passed.
"""
import os
import sys

from libcloud.compute.providers import get_driver
from libcloud.compute.types import Provider, StorageVolumeState


def check(cond, what):
    if not cond:
        print("FAIL: " + what)
        sys.exit(1)


cls = get_driver(Provider.CLOUDSTACK)
url = os.environ["CLOUDSTACK_ENDPOINT"]
drv = cls(key=os.environ["CLOUDSTACK_KEY"], secret=os.environ["CLOUDSTACK_SECRET"], url=url,
          secure=url.startswith("https:"))

zone = [l for l in drv.list_locations() if l.name == "Sandbox-simulator"][0]
size = [s for s in drv.list_sizes() if s.name == "Micro"][0]
image = [i for i in drv.list_images(location=zone) if i.name == "Debian 12"][0]
node = drv.create_node(name="lc-disk", size=size, image=image, location=zone)

offerings = {o.name: o for o in drv.ex_list_disk_offerings()}
check(offerings["Small"].size == 5 and offerings["Custom"].customizable, "disk offerings %r" % offerings)

# a 5 GB volume from the Small offering, and a 7 GB one from the custom offering
vol = drv.create_volume(5, "lc-data", location=zone)
check(vol.id and vol.name == "lc-data", "create_volume: %r" % vol)
custom = drv.create_volume(7, "lc-custom", location=zone, ex_volume_type="Custom")
vols = {v.name: v for v in drv.list_volumes()}
check(vols["lc-data"].size == 5 << 30 and vols["lc-custom"].size == 7 << 30, "sizes: %r" % vols)
check(vols["lc-data"].extra["state"] == "Allocated", "a new volume is Allocated: %r" % vols["lc-data"].extra)

# attach: the node lists its root disk and the data disk
check(drv.attach_volume(node, vol), "attach_volume")
mine = drv.list_volumes(node=node)
types = sorted(v.extra["volume_type"] for v in mine)
check(types == ["DATADISK", "ROOT"], "node's volumes: %r" % types)
data = [v for v in mine if v.extra["volume_type"] == "DATADISK"][0]
check(data.state == StorageVolumeState.INUSE and data.extra["device_id"] == 1, "attached: %r %r" % (data.state, data.extra))

# attaching again is refused with the server's text
try:
    drv.attach_volume(node, vol)
    check(False, "second attach accepted")
except Exception as e:  # libcloud raises Exception for failed async jobs
    check("already attached" in str(e), "second attach: %s" % e)

# a snapshot of the attached disk, a template from it
snap = drv.create_volume_snapshot(vol)
check(snap.id and snap.extra["volume_id"] == vol.id, "snapshot: %r" % snap.extra)
snaps = drv.list_snapshots()
check([s.id for s in snaps] == [snap.id], "list_snapshots: %r" % snaps)
ostype = [o for o in drv.ex_list_os_types() if "Debian" in o["description"]][0]["id"]
tpl = drv.ex_create_snapshot_template(snap, "lc-tpl", ostype)
check(tpl.id and tpl.name == "lc-tpl" and tpl.extra["hypervisor"] == "Simulator", "template from snapshot: %r" % tpl.extra)
check("lc-tpl" in [i.name for i in drv.list_images(location=zone)], "the new template is listed")

# detach, then the volume can go; deleting an attached one is refused
try:
    drv.destroy_volume(vol)
    check(False, "attached volume deleted")
except Exception as e:
    check("not attached" in str(e), "delete attached: %s" % e)
check(drv.detach_volume(vol), "detach_volume")
mine = drv.list_volumes(node=node)
check([v.extra["volume_type"] for v in mine] == ["ROOT"], "after detach: %r" % mine)
check(drv.destroy_volume_snapshot(snap), "destroy_volume_snapshot")
check(drv.destroy_volume(vol) and drv.destroy_volume(custom), "destroy_volume")
left = drv.list_volumes()
check([v.extra["volume_type"] for v in left] == ["ROOT"], "only the root disk left: %r" % left)
print("OK")
