// Package multihost tests stratus across several hosts: the compose cluster
// of deploy/docker-compose.yml (three etcd members, three `stratus server`s,
// agents), each host its own container on a private network, built from
// source by deploy/build-images. Each scenario writes through the APIs,
// records what was acknowledged, injects a fault (a host stopped, a network
// partition healed) and checks afterwards that nothing acknowledged is
// lost.
//
// The stratus scenarios: a server stopped (clients of another server carry
// on, and the agent that used it moves to the next), the etcd leader
// stopped under the servers, a server's host cut off and healed, an agent's
// host stopped (its node turns NotReady, its pods come back on the others,
// every pod's log is served through another server), a server killed under
// a Marathon app (its tasks run on and it scales through another server).
//
// The tests talk to the cluster only through ports published on 127.0.0.1
// and `docker exec`. They need Docker and docker-compose; without them
// they skip, and fail under CI=true. Run them with
//
//	STRATUS_MULTIHOST=all CI=true go test -count=1 -timeout 20m ./test/multihost/
//
// (STRATUS_MULTIHOST=etcd runs only the etcd scenarios, =marathon only the
// Marathon one; unset, the tests skip.) $STRATUS_BINARY and $ETCD_BINARY
// (see deploy/build-images) spare compiling the images' binaries;
// scripts/test sets both under CI.
package multihost
