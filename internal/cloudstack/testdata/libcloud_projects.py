"""Drive projects with Apache libcloud's CloudStack driver.

Run by TestLibcloudProjects with CLOUDSTACK_ENDPOINT, CLOUDSTACK_KEY and
CLOUDSTACK_SECRET set: a project made with the raw createProject call (the
driver has no method for it), ex_list_projects, list_nodes with and
without the project, ex_get_node(project=), and the node's and project's
removal. The node is deployed with the raw call too: libcloud 3.4's
create_node takes project= but never sends it (its _create_args_to_params
is not given it), so a node made that way is the caller's, as this
script checks. Prints "OK" when every check passed.
"""
import os
import sys

from libcloud.compute.providers import get_driver
from libcloud.compute.types import Provider


def check(cond, what):
    if not cond:
        print("FAIL: " + what)
        sys.exit(1)


cls = get_driver(Provider.CLOUDSTACK)
url = os.environ["CLOUDSTACK_ENDPOINT"]
drv = cls(key=os.environ["CLOUDSTACK_KEY"], secret=os.environ["CLOUDSTACK_SECRET"], url=url,
          secure=url.startswith("https:"))

res = drv._async_request(command="createProject", params={"name": "lc", "displaytext": "from libcloud"}, method="GET")
check(res.get("project", {}).get("name") == "lc", "createProject: %r" % res)

projects = {p.name: p for p in drv.ex_list_projects()}
check("lc" in projects, "ex_list_projects: %r" % projects)
prj = projects["lc"]
check(prj.display_text == "from libcloud" and prj.extra.get("account") == "admin", "project: %r %r" % (prj, prj.extra))

zone = [l for l in drv.list_locations() if l.name == "Sandbox-simulator"][0]
size = [s for s in drv.list_sizes() if s.name == "Micro"][0]
image = [i for i in drv.list_images(location=zone) if i.name == "Debian 12"][0]
mine = drv.create_node(name="lc-mine", size=size, image=image, location=zone, project=prj)
check(mine.extra.get("project_id") is None, "create_node(project=) began sending projectid: %r" % mine.extra)
res = drv._async_request(command="deployVirtualMachine", method="GET", params={
    "name": "lc-prj", "zoneid": zone.id, "serviceofferingid": size.id, "templateid": image.id, "projectid": prj.id})
node = drv.ex_get_node(res["virtualmachine"]["id"], project=prj)
check(node.extra.get("project_id") == prj.id, "the project's node: %r" % node.extra)

check("lc-prj" not in [n.name for n in drv.list_nodes()], "list_nodes() shows the project's node")
check("lc-prj" in [n.name for n in drv.list_nodes(project=prj)], "list_nodes(project=) misses the node")
got = drv.ex_get_node(node.id, project=prj)
check(got.name == "lc-prj" and got.extra.get("project") == "lc", "ex_get_node(project=): %r" % got.extra)

check(drv.destroy_node(node, ex_expunge=True) and drv.destroy_node(mine, ex_expunge=True), "destroy_node")
drv._async_request(command="deleteProject", params={"id": prj.id, "cleanup": "true"}, method="GET")
check("lc" not in [p.name for p in drv.ex_list_projects()], "the project is still listed")
print("OK")
