package multihost

import (
	"strings"
	"testing"
	"time"
)

func TestCluster(t *testing.T) {
	c := newCluster(t)
	if err := c.build("etcd"); err != nil {
		t.Fatal(err)
	}
	stratusErr := c.build("stratus")
	if stratusErr == nil {
		stratusErr = c.supports("server", "agent")
	}
	if stratusErr == nil {
		c.up()
	} else {
		t.Logf("stratus cluster unavailable, testing etcd only: %v", stratusErr)
		c.up(etcdMembers...)
	}
	etcdLeader(t, c, 2*time.Minute)

	t.Run("EtcdMemberStopped", func(t *testing.T) { testEtcdMemberStopped(t, c) })
	t.Run("EtcdMemberPartitioned", func(t *testing.T) { testEtcdMemberPartitioned(t, c) })
	t.Run("Stratus", func(t *testing.T) {
		if stratusErr != nil {
			needStratus(t, stratusErr)
		}
		testStratus(t, c)
	})
}

// supports checks that the stratus image has the named subcommands.
func (c *cluster) supports(cmds ...string) error {
	img := strings.TrimPrefix(c.env[0], "STRATUS_IMAGE=")
	for _, cmd := range cmds {
		if _, err := c.run(time.Minute, "docker", "run", "--rm", "--network", "none", img, cmd, "--help"); err != nil {
			return err
		}
	}
	return nil
}
