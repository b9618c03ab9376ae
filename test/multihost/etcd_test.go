package multihost

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

var etcdMembers = []string{"etcd1", "etcd2", "etcd3"}

// etcdClient connects to the given members' published client ports.
func etcdClient(t *testing.T, c *cluster, members ...string) *clientv3.Client {
	t.Helper()
	eps := make([]string, len(members))
	for i, m := range members {
		eps[i] = "http://" + c.addr(m, 2379)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

// etcdLeader waits until every member sees one leader and returns it.
func etcdLeader(t *testing.T, c *cluster, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		leader, err := func() (string, error) {
			ids := map[string]uint64{}
			var leaderID uint64
			for _, m := range etcdMembers {
				cli := etcdClient(t, c, m)
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				st, err := cli.Status(ctx, cli.Endpoints()[0])
				cancel()
				_ = cli.Close()
				if err != nil {
					return "", fmt.Errorf("%s: %w", m, err)
				}
				if st.Leader == 0 || (leaderID != 0 && st.Leader != leaderID) {
					return "", fmt.Errorf("%s sees leader %x, others %x", m, st.Leader, leaderID)
				}
				leaderID = st.Leader
				ids[m] = st.Header.MemberId
			}
			for m, id := range ids {
				if id == leaderID {
					return m, nil
				}
			}
			return "", fmt.Errorf("leader %x is no member", leaderID)
		}()
		if err == nil {
			return leader
		}
		if time.Now().After(deadline) {
			t.Fatalf("etcd cluster has no agreed leader after %v: %v", timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// etcdWriter writes key prefix/<i> = i through a client of all members.
func etcdWriter(t *testing.T, c *cluster, prefix string) *writer {
	cli := etcdClient(t, c, etcdMembers...)
	return startWriter(func(ctx context.Context, i int) error {
		_, err := cli.Put(ctx, fmt.Sprintf("%s/%06d", prefix, i), strconv.Itoa(i))
		return err
	}, 3*time.Second)
}

// checkEtcd checks that every member, once caught up, holds every
// acknowledged write with its value.
func checkEtcd(t *testing.T, c *cluster, prefix string, acked []int) {
	t.Helper()
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged")
	}
	for _, m := range etcdMembers {
		cli := etcdClient(t, c, m)
		deadline := time.Now().Add(60 * time.Second)
		var got map[string]string
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			// A serializable read answers from this member's own copy.
			resp, err := cli.Get(ctx, prefix+"/", clientv3.WithPrefix(), clientv3.WithSerializable())
			cancel()
			if err == nil {
				got = make(map[string]string, len(resp.Kvs))
				for _, kv := range resp.Kvs {
					got[string(kv.Key)] = string(kv.Value)
				}
				if missing := missingKeys(prefix, acked, got); len(missing) == 0 {
					break
				} else if time.Now().After(deadline) {
					t.Fatalf("%s lacks %d acknowledged writes (first %v) of %d", m, len(missing), missing[0], len(acked))
				}
			} else if time.Now().After(deadline) {
				t.Fatalf("reading %s: %v", m, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Logf("%s holds all %d acknowledged writes (%d keys)", m, len(acked), len(got))
		_ = cli.Close()
	}
}

func missingKeys(prefix string, acked []int, got map[string]string) []string {
	var missing []string
	for _, i := range acked {
		k := fmt.Sprintf("%s/%06d", prefix, i)
		if got[k] != strconv.Itoa(i) {
			missing = append(missing, k)
		}
	}
	return missing
}

// testEtcdLeaderKilled kills the leader (SIGKILL: no leadership transfer,
// no clean shutdown) under write traffic: the other two elect a new one and
// go on; the killed member, started again, catches up; nothing
// acknowledged is lost.
func testEtcdLeaderKilled(t *testing.T, c *cluster) {
	leader := etcdLeader(t, c, time.Minute)
	t.Logf("killing the leader, %s", leader)
	w := etcdWriter(t, c, "/mh/stopped")
	defer w.stop()
	w.waitMore(t, 20, time.Minute, "before the fault")
	c.kill(leader)
	w.waitMore(t, 20, time.Minute, leader+" killed")
	c.start(leader)
	etcdLeader(t, c, time.Minute)
	w.waitMore(t, 10, time.Minute, leader+" back")
	checkEtcd(t, c, "/mh/stopped", w.stop())
}

// testEtcdMemberPartitioned cuts the leader off the network: the majority
// elects a new leader and goes on; after the partition heals the old
// leader follows and catches up; nothing acknowledged is lost.
func testEtcdMemberPartitioned(t *testing.T, c *cluster) {
	leader := etcdLeader(t, c, time.Minute)
	t.Logf("partitioning the leader, %s", leader)
	w := etcdWriter(t, c, "/mh/partition")
	defer w.stop()
	w.waitMore(t, 20, time.Minute, "before the partition")
	c.partition(leader)
	w.waitMore(t, 20, time.Minute, leader+" cut off")
	c.heal(leader)
	etcdLeader(t, c, time.Minute)
	w.waitMore(t, 10, time.Minute, "healed")
	checkEtcd(t, c, "/mh/partition", w.stop())
}
