"""Health checks that really run, read with Debian's python3-marathon (0.13).

The cluster's nodes run tasks as processes (the exec runtime). An app
serves HTTP on $HOST:$PORT0 with the status code written in the file
$STATUS_FILE; its HTTP health check is the node agent's probe, and the
task's healthCheckResults and the app's tasksHealthy/tasksUnhealthy
follow what the probe finds. A TCP check on a port nothing listens on is
unhealthy with the dial error as its cause.

Reads MARATHON_URL, MARATHON_USERNAME, MARATHON_PASSWORD, STATUS_FILE and
SERVER (the server's source); exits non-zero on the first failed check.
"""
import os
import sys

from marathon import MarathonApp, MarathonClient
from marathon.models.app import MarathonHealthCheck

from scenario import AUTH, URL, check, until

STATUS = os.environ["STATUS_FILE"]


def set_status(code):
    with open(STATUS, "w") as f:
        f.write(code)


c = MarathonClient(URL, username=AUTH[0], password=AUTH[1])
set_status("200")
cmd = "exec %s -c '%s'" % (sys.executable, os.environ["SERVER"])
c.create_app("web", MarathonApp(cmd=cmd, instances=1, cpus=0.01, mem=16, ports=[0],
                                env={"STATUS_FILE": STATUS},
                                health_checks=[MarathonHealthCheck(protocol="HTTP", path="/health", port_index=0,
                                                                   grace_period_seconds=1, interval_seconds=1,
                                                                   timeout_seconds=1, max_consecutive_failures=3)]))


def web():
    return c.get_app("web", embed_tasks=True)


def result():
    a = web()
    if not a.tasks or not a.tasks[0].health_check_results:
        return None
    return a.tasks[0].health_check_results[0]


until(lambda: web().tasks_healthy == 1 and web().tasks_unhealthy == 0, "web healthy")
r = result()
check(r.alive and r.consecutive_failures == 0 and r.first_success and r.last_success, "healthy result: %s" % r.json_repr())
check(r.instance_id.startswith("web.marathon-"), "instance id %s" % r.instance_id)
task_id = web().tasks[0].id

# the endpoint fails: unhealthy, with the probe's cause, counted
set_status("503")
until(lambda: web().tasks_unhealthy == 1 and web().tasks_healthy == 0, "web unhealthy")
r = result()
check(r is not None and not r.alive and r.consecutive_failures >= 1 and r.last_failure, "unhealthy result: %s" % (r and r.json_repr()))
check(r.last_failure_cause == "HTTP probe failed with statuscode: 503", "cause %r" % r.last_failure_cause)

# healthy again (maxConsecutiveFailures may have restarted it meanwhile)
set_status("200")
until(lambda: web().tasks_healthy == 1, "web healthy again")
r = result()
check(r.alive and r.consecutive_failures == 0 and r.last_failure, "recovered result: %s" % r.json_repr())
check(web().tasks[0].id == task_id, "the task keeps its id")

# a TCP check on a port nothing listens on (the task's own port, so the
# server runs it: failures count once the grace period is over; 0 would
# be left out by the client, and Marathon's default is 300 s)
c.create_app("tcp", MarathonApp(cmd="sleep 600", instances=1, cpus=0.01, mem=16, ports=[0],
                                health_checks=[MarathonHealthCheck(protocol="TCP", port_index=0, interval_seconds=1,
                                                                   timeout_seconds=1, grace_period_seconds=1,
                                                                   max_consecutive_failures=1000)]))
until(lambda: c.get_app("tcp").tasks_unhealthy == 1, "tcp unhealthy")
t = c.get_app("tcp", embed_tasks=True).tasks[0]
cause = t.health_check_results[0].last_failure_cause
check(cause.startswith("dial tcp ") and cause.endswith("connect: connection refused"), "tcp cause %r" % cause)

# Every health check counts: the first is the agent's probe, the others
# the server's; one failing check makes the task unhealthy, and the
# deployment waits for all of them.
set_status("200")


def multi_app(name, failing_port_index):
    return MarathonApp(cmd=cmd, instances=1, cpus=0.01, mem=16, ports=[0, 0], env={"STATUS_FILE": STATUS},
                       health_checks=[
                           MarathonHealthCheck(protocol="HTTP", path="/health", port_index=0, grace_period_seconds=1,
                                               interval_seconds=1, timeout_seconds=1, max_consecutive_failures=0),
                           MarathonHealthCheck(protocol="TCP", port_index=0, grace_period_seconds=1,
                                               interval_seconds=1, timeout_seconds=1, max_consecutive_failures=0),
                           MarathonHealthCheck(protocol="HTTP", path="/other", port_index=failing_port_index,
                                               grace_period_seconds=1, interval_seconds=1, timeout_seconds=1,
                                               max_consecutive_failures=0)])


c.create_app("multi-ok", multi_app("multi-ok", 0))
c.create_app("multi-bad", multi_app("multi-bad", 1))


def results(name):
    a = c.get_app(name, embed_tasks=True)
    return a.tasks[0].health_check_results if a.tasks else []


until(lambda: len(results("multi-ok")) == 3 and c.get_app("multi-ok").tasks_healthy == 1, "multi-ok healthy on 3 checks")
rs = results("multi-ok")
check(len(rs) == 3 and all(r.alive for r in rs), "multi-ok results: %s" % [r.json_repr() for r in rs])
# (the first two may fail too until the task's server listens: wait for
# the steady state, not the first failure)
until(lambda: c.get_app("multi-bad").tasks_unhealthy == 1 and [r.alive for r in results("multi-bad")] == [True, True, False],
      "multi-bad unhealthy on its third check only")
a = c.get_app("multi-bad", embed_tasks=True)
rs = a.tasks[0].health_check_results
check(a.tasks_healthy == 0 and len(rs) == 3, "multi-bad: %d healthy, results %s" % (a.tasks_healthy, [r.json_repr() for r in rs]))
check(rs[0].alive and rs[1].alive and not rs[2].alive and rs[2].consecutive_failures >= 1, "multi-bad alive: %s" % [r.alive for r in rs])
check(rs[2].last_failure_cause.startswith("Get ") or rs[2].last_failure_cause.startswith("dial tcp")
      or "connection refused" in rs[2].last_failure_cause, "multi-bad cause %r" % rs[2].last_failure_cause)


def waiting():
    return {d.affected_apps[0] for d in c.list_deployments()}


# multi-ok's deployment finishes once its checks pass (a moment after, on a
# busy machine); multi-bad's waits
until(lambda: "/multi-ok" not in waiting(), "multi-ok's deployment done")
check("/multi-bad" in waiting(), "deployments waiting: %s" % waiting())

# One failing check is enough, whichever it is: now the probed one.
set_status("503")
until(lambda: c.get_app("multi-ok").tasks_unhealthy == 1, "multi-ok unhealthy once /health fails")
print("ok")
