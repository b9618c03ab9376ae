"""Each task's own host ports, read with Debian's python3-marathon (0.13).

The cluster has one node that runs tasks as processes (the exec runtime).
Two tasks of an app whose port definition asks for any port (port 0) bind
every address on their PORT_HTTP: each gets its own port of the node's
range [31000-32000], so both run and both answer there; the app keeps one
service port; PORT0, PORTS and PORT_HTTP agree; the master's state shows
the ports the tasks use.

Reads MARATHON_URL, MARATHON_USERNAME, MARATHON_PASSWORD; exits non-zero
on the first failed check.
"""
import json
import urllib.request

from marathon import MarathonApp, MarathonClient
from marathon.models.app import PortDefinition

from scenario import AUTH, URL, check, until

c = MarathonClient(URL, username=AUTH[0], password=AUTH[1])
cmd = ('test "$PORT0" = "$PORT_HTTP" && test "$PORTS" = "$PORT0" && test "$PORT" = "$PORT0" && '
       'exec python3 -m http.server --bind 0.0.0.0 "$PORT_HTTP"')
c.create_app("web", MarathonApp(cmd=cmd, instances=2, cpus=0.01, mem=16,
                                port_definitions=[PortDefinition(port=0, protocol="tcp", name="http")]))


def running():
    ts = [t for t in c.list_tasks("/web") if t.state == "TASK_RUNNING"]
    return ts if len(ts) == 2 else None


tasks = until(running, "two tasks running")
app = c.get_app("web")
svc = app.port_definitions[0].port
check(10000 <= svc <= 20000, "service port from the app's range: %r" % svc)
ports = [t.ports for t in tasks]
check(all(len(p) == 1 and 31000 <= p[0] <= 32000 for p in ports), "task ports from the node's range: %r" % ports)
check(tasks[0].host == tasks[1].host and ports[0] != ports[1], "one node, two ports: %r" % ports)
check(all(t.service_ports == [svc] for t in tasks), "service ports %r" % [t.service_ports for t in tasks])


def answers(port):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


for p in ports:
    until(lambda: answers(p[0]), "a task answers on its port %d" % p[0])

# The master's state: the node's ports resource, what the tasks use.
req = urllib.request.Request(URL + "/master/state")
req.add_header("Authorization", "Basic " + __import__("base64").b64encode(("%s:%s" % AUTH).encode()).decode())
state = json.load(urllib.request.urlopen(req))
agent = state["slaves"][0]
check(agent["resources"]["ports"] == "[31000-32000]", "agent ports %r" % agent["resources"])
used = agent["used_resources"].get("ports", "")
check(all(str(p[0]) in used for p in ports), "used ports %r, tasks %r" % (used, ports))
mt = [t for f in state["frameworks"] for t in f["tasks"]]
check(sorted(t["resources"]["ports"] for t in mt) == sorted("[%d-%d]" % (p[0], p[0]) for p in ports),
      "task resources %r" % [t["resources"] for t in mt])

c.delete_app("web", force=True)
print("ok")
