"""Drive CloudStack's site-to-site VPN with Apache libcloud's driver.

Run by TestLibcloudVPN with CLOUDSTACK_ENDPOINT, CLOUDSTACK_KEY and
CLOUDSTACK_SECRET set, and the id of a VPC as the first argument: a
customer gateway, the VPC's VPN gateway, a connection between them, their
listings (and the connection's own lookups of its two ends), then the
deletes. Prints "OK" when every check passed.
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

vpc = [v for v in drv.ex_list_vpcs() if v.id == sys.argv[1]][0]
check(drv.ex_list_vpn_gateways() == [], "no VPN gateway yet")
check(drv.ex_list_vpn_customer_gateways() == [], "no customer gateway yet")
check(drv.ex_list_vpn_connections() == [], "no connection yet")

cgw = drv.ex_create_vpn_customer_gateway(cidr_list="192.168.10.0/24", esp_policy="aes128-sha1",
                                         gateway="198.51.100.20", ike_policy="aes128-sha1;modp1536",
                                         ipsec_psk="lc-psk", dpd=True, ike_lifetime=28800, name="lc-office")
check(cgw.extra["name"] == "lc-office" and cgw.extra["dpd"] is True and cgw.extra["ike_lifetime"] == 28800,
      "customer gateway: %r %r" % (cgw, cgw.extra))
gw = drv.ex_create_vpn_gateway(vpc)
check(gw.vpc_id == vpc.id and gw.public_ip, "VPN gateway: %r" % gw)
conn = drv.ex_create_vpn_connection(cgw, gw, passive=False)
check(conn.state == "Connected" and conn.passive is False, "connection: %r" % conn)

gws = drv.ex_list_vpn_gateways(vpc_id=vpc.id)
check(len(gws) == 1 and gws[0].id == gw.id and gws[0].public_ip == gw.public_ip, "ex_list_vpn_gateways: %r" % gws)
cgws = drv.ex_list_vpn_customer_gateways(id=cgw.id)
check(len(cgws) == 1 and cgws[0].cidr_list == "192.168.10.0/24" and cgws[0].ipsec_psk == "lc-psk",
      "ex_list_vpn_customer_gateways: %r" % cgws)
conns = drv.ex_list_vpn_connections(vpc_id=vpc.id)
check(len(conns) == 1 and conns[0].id == conn.id and conns[0].state == "Connected", "ex_list_vpn_connections: %r" % conns)
check(conns[0].vpn_gateway.id == gw.id and conns[0].vpn_customer_gateway.id == cgw.id, "the connection's ends")

check(drv.ex_delete_vpn_connection(conn) is True, "ex_delete_vpn_connection")
check(drv.ex_delete_vpn_gateway(gw) is True, "ex_delete_vpn_gateway")
check(cgw.delete() is True, "customer gateway delete")
check(drv.ex_list_vpn_connections() == [] and drv.ex_list_vpn_gateways() == []
      and drv.ex_list_vpn_customer_gateways() == [], "everything gone")
print("OK")
