"""Drives stratus's Marathon API with Debian's python3-marathon (0.13).

Reads MARATHON_URL, MARATHON_USERNAME, MARATHON_PASSWORD; exits non-zero
with a message on the first check that fails.
"""
import threading

from marathon import MarathonClient, MarathonApp
from marathon.exceptions import ConflictError, MarathonHttpError, NotFoundError
from marathon.models.container import (MarathonContainer, MarathonContainerPortMapping,
                                       MarathonDockerContainer)
from marathon.models.group import MarathonGroup

from scenario import AUTH, URL, check, until


c = MarathonClient(URL, username=AUTH[0], password=AUTH[1])
check(c.ping().strip() in (b"pong", "pong", '"pong"'), "ping")
check(c.get_info().name == "marathon", "info")
# Marathon's JSON metrics (Dropwizard's shape), not Prometheus' text.
m = c.get_metrics()
check(set(m) >= {"version", "gauges", "counters", "histograms", "meters", "timers"}, "metrics sections: %r" % sorted(m))
check(m["gauges"]["marathon.apps.active.gauge"]["value"] == 0, "no apps yet: %r" % m["gauges"])

events = []


def listen():
    try:
        for ev in c.event_stream(event_types=["status_update_event", "deployment_success"]):
            events.append(ev)
    except Exception as e:  # the stream ends with the server
        events.append(e)


threading.Thread(target=listen, daemon=True).start()


def deployed(dep_id):
    return lambda: all(d.id != dep_id for d in c.list_deployments())


def running(app_id):
    return [t for t in c.list_tasks(app_id) if t.state == "TASK_RUNNING"]


# A docker app with a bridged port mapping.
app = MarathonApp(instances=2, cpus=0.1, mem=32, env={"MODE": "one"},
                  container=MarathonContainer(docker=MarathonDockerContainer(
                      image="nginx:alpine", network="BRIDGE",
                      port_mappings=[MarathonContainerPortMapping(container_port=80, host_port=0)])))
created = c.create_app("/py/web", app)
check(created and created.id == "/py/web", "create_app")
check(len(created.deployments) == 1, "created app carries its deployment")
until(deployed(created.deployments[0].id), "first deployment")
until(lambda: len(running("/py/web")) == 2, "two tasks running")
got = c.get_app("/py/web")
pm = got.container.docker.port_mappings[0]
check(pm.host_port == 0 and 10000 <= pm.service_port <= 20000, "hostPort 0 kept, service port assigned: %r" % pm.__dict__)
for t in running("/py/web"):
    check(len(t.ports) == 1 and 31000 <= t.ports[0] <= 32000 and t.service_ports == [pm.service_port]
          and t.host and t.started_at, "task fields %r" % t.__dict__)
m = c.get_metrics()["gauges"]
check(m["marathon.apps.active.gauge"]["value"] == 1 and m["marathon.instances.running.gauge"]["value"] == 2, "metrics %r" % m)

# Scale up and down.
dep = c.scale_app("/py/web", instances=4)["deploymentId"]
until(deployed(dep), "scale to 4")
check(len(running("/py/web")) == 4, "four running")

# Kill without scale: replaced.
victim = running("/py/web")[0].id
killed = c.kill_task("/py/web", victim)
check(killed.id == victim, "kill_task answers the task")
until(lambda: len(running("/py/web")) == 4 and victim not in [t.id for t in running("/py/web")], "replacement")

# Kill with scale: one fewer instance, the others kept.
tasks = running("/py/web")
victim = tasks[0].id
check(c.kill_given_tasks([victim], scale=True), "kill_given_tasks scale")
until(lambda: c.get_app("/py/web").instances == 3 and not c.get_app("/py/web").deployments, "scaled down by the kill")
left = {t.id for t in running("/py/web")}
check(left == {t.id for t in tasks[1:]}, "exactly the killed task went: %r" % left)

# A new env is a new version and replaces every task.
v1 = c.get_app("/py/web").version
dep = c.update_app("/py/web", MarathonApp(env={"MODE": "two"}))["deploymentId"]
try:
    c.scale_app("/py/web", instances=5)
    locked = False
except ConflictError:
    locked = True
until(deployed(dep), "env update")
after = c.get_app("/py/web")
check(after.env == {"MODE": "two"} and after.version != v1, "new version")
until(lambda: len(running("/py/web")) == 3 and all(t.version == after.version and t.id not in left for t in running("/py/web")), "tasks rolled")
check(len(c.list_versions("/py/web")) >= 3, "versions kept")
print("locked during deployment:", locked)

# Kill all tasks on one host with scale.
host = running("/py/web")[0].host
on_host = [t.id for t in running("/py/web") if t.host == host]
res = c.kill_tasks("/py/web", scale=True, host=host)
check("deploymentId" in res, "kill_tasks scale answers a deployment: %r" % res)
until(lambda: c.get_app("/py/web").instances == 3 - len(on_host) and not c.get_app("/py/web").deployments, "host emptied")

# Errors.
try:
    c.create_app("/py/web", app)
    check(False, "duplicate create")
except ConflictError as e:
    check("already exists" in e.error_message, "409 message %r" % e.error_message)
try:
    c.get_app("/py/none")
    check(False, "missing app")
except NotFoundError as e:
    check(e.error_message == "App '/py/none' does not exist", "404 message %r" % e.error_message)
try:
    c.create_app("/py/bad", MarathonApp(cmd="x", instances=-1))
    check(False, "invalid app")
except MarathonHttpError as e:
    check(e.status_code == 422, "invalid app status %d" % e.status_code)
try:
    MarathonClient(URL, username=AUTH[0], password="nope").list_apps()
    check(False, "wrong password")
except MarathonHttpError as e:
    check(e.status_code == 401 and e.error_message == "Invalid username or password.", "401 %r" % e.error_message)

# Groups.
g = MarathonGroup(id="/pg", apps=[MarathonApp(id="/pg/a", cmd="sleep 1000", instances=1, cpus=0.1, mem=16),
                                  MarathonApp(id="/pg/b", cmd="sleep 1000", instances=1, cpus=0.1, mem=16,
                                              dependencies=["/pg/a"])])
res = c.create_group(g)
until(deployed(res["deploymentId"]), "group deployed")
check(sorted(a.id for a in c.get_group("/pg").apps) == ["/pg/a", "/pg/b"], "group apps")
dep = c.scale_group("/pg", 2)["deploymentId"]
until(deployed(dep), "group scaled")
check(all(a.instances == 2 for a in c.get_group("/pg").apps), "group scaled by 2")
dep = c.delete_group("/pg")["deploymentId"]
until(deployed(dep), "group deleted")

# Delete.
dep = c.delete_app("/py/web")["deploymentId"]
until(deployed(dep), "app deleted")
try:
    c.get_app("/py/web")
    check(False, "deleted app still there")
except NotFoundError:
    pass

# The event stream saw tasks running and deployments succeed.
until(lambda: any(getattr(e, "task_status", None) == "TASK_RUNNING" for e in events), "status_update_event")
until(lambda: any(type(e).__name__ == "MarathonDeploymentSuccess" for e in events), "deployment_success")
check(not any(isinstance(e, Exception) for e in events), "event stream error %r" % [e for e in events if isinstance(e, Exception)])
print("ok")
