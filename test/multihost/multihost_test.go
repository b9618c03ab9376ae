package multihost

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestCluster is opt-in, as it builds images and runs a nine-container
// cluster: STRATUS_MULTIHOST=etcd runs the etcd scenarios, =marathon only
// the Marathon one, =all every scenario.
func TestCluster(t *testing.T) {
	mode := os.Getenv("STRATUS_MULTIHOST")
	if mode == "" {
		t.Skip("multi-host tests are opt-in: set STRATUS_MULTIHOST=etcd, marathon or all")
	}
	c := newCluster(t)
	// etcd first: its scenarios need nothing else, and run while nothing
	// else competes for the machine.
	if err := c.build("etcd"); err != nil {
		t.Fatal(err)
	}
	c.up(etcdMembers...)
	etcdLeader(t, c, 2*time.Minute)
	if mode != "marathon" {
		t.Run("EtcdLeaderKilled", func(t *testing.T) { testEtcdLeaderKilled(t, c) })
		t.Run("EtcdMemberPartitioned", func(t *testing.T) { testEtcdMemberPartitioned(t, c) })
	}
	if mode == "etcd" {
		return
	}

	stratusErr := c.build("stratus")
	if stratusErr == nil {
		stratusErr = c.supports("server", "agent")
	}
	t.Run("Stratus", func(t *testing.T) {
		if stratusErr != nil {
			needStratus(t, stratusErr)
		}
		c.up()
		if mode == "marathon" {
			waitServers(t, c, servers...)
			t.Run("MarathonServerKilled", func(t *testing.T) { testMarathonServerStopped(t, c) })
			return
		}
		testStratus(t, c)
	})
}

// supports checks that the stratus image has the named subcommands (cobra
// answers an unknown one's --help with the root's usage, so the usage line
// is what tells).
func (c *cluster) supports(cmds ...string) error {
	img := strings.TrimPrefix(c.env[0], "STRATUS_IMAGE=")
	for _, cmd := range cmds {
		out, err := c.run(time.Minute, "docker", "run", "--rm", "--network", "none", img, cmd, "--help")
		if err != nil {
			return err
		}
		if !strings.Contains(out, "Usage:\n  stratus "+cmd) {
			return fmt.Errorf("stratus has no %q command:\n%s", cmd, out)
		}
	}
	return nil
}
