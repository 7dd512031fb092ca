# connect container web to network bridge
# create the bridge minictr0, a virtual switch holding the gateway 172.18.0.1 (its own fixed MAC, so joining containers never change it)
ip link add minictr0 address 02:42:ac:12:00:01 type bridge || true
ip addr add 172.18.0.1/16 dev minictr0 || true
ip link set minictr0 up || true
# make the host a router: forward packets between the bridge and other interfaces
echo 1 > /proc/sys/net/ipv4/ip_forward
# let the host reach ports published on 127.0.0.1 through kernel NAT (only on minictr0, never "all")
echo 1 > /proc/sys/net/ipv4/conf/minictr0/route_localnet
# let iptables see traffic between containers on the same bridge (br_netfilter; affects every bridge on the host)
echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables || true
# create the MINICTR chains and hook them into FORWARD and nat; masquerade 172.18.0.0/16 leaving through other interfaces and forward traffic for minictr0
iptables -w -t filter -N MINICTR
iptables -w -t filter -N MINICTR-BRIDGE
iptables -w -t filter -N MINICTR-CT
iptables -w -t filter -N MINICTR-FORWARD
iptables -w -t filter -N MINICTR-ISOLATION-STAGE-1
iptables -w -t filter -N MINICTR-ISOLATION-STAGE-2
iptables -w -t filter -N MINICTR-USER
iptables -w -t filter -I FORWARD -m comment --comment minictr -j MINICTR-FORWARD
iptables -w -t filter -I FORWARD -m comment --comment minictr -j MINICTR-USER
iptables -w -t filter -A MINICTR-FORWARD -m comment --comment minictr -j MINICTR-CT
iptables -w -t filter -A MINICTR-FORWARD -m comment --comment minictr -j MINICTR-ISOLATION-STAGE-1
iptables -w -t filter -A MINICTR-FORWARD -m comment --comment minictr -j MINICTR-BRIDGE
iptables -w -t filter -A MINICTR '!' -i minictr0 -o minictr0 -m comment --comment minictr:bridge -j DROP
iptables -w -t filter -A MINICTR-BRIDGE -o minictr0 -m comment --comment minictr:bridge -j MINICTR
iptables -w -t filter -A MINICTR-CT -o minictr0 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment minictr:bridge -j ACCEPT
iptables -w -t filter -A MINICTR-FORWARD -i minictr0 -m comment --comment minictr:bridge -j ACCEPT
iptables -w -t filter -A MINICTR-ISOLATION-STAGE-1 -i minictr0 '!' -o minictr0 -m comment --comment minictr:bridge -j MINICTR-ISOLATION-STAGE-2
iptables -w -t filter -A MINICTR-ISOLATION-STAGE-2 -o minictr0 -m comment --comment minictr:bridge -j DROP
iptables -w -t filter -I MINICTR-ISOLATION-STAGE-2 -o minictr0 -m conntrack --ctstate DNAT -m comment --comment minictr:bridge -j RETURN
iptables -w -t nat -N MINICTR
iptables -w -t nat -A PREROUTING -m addrtype --dst-type LOCAL -m comment --comment minictr -j MINICTR
iptables -w -t nat -A OUTPUT -m addrtype --dst-type LOCAL -m comment --comment minictr -j MINICTR
iptables -w -t nat -A POSTROUTING -s 172.18.0.0/16 '!' -o minictr0 -m comment --comment minictr:bridge -j MASQUERADE
iptables -w -t nat -A POSTROUTING -o minictr0 -m addrtype --src-type LOCAL -m comment --comment minictr:bridge -j MASQUERADE
iptables -w -t raw -A PREROUTING -d 127.0.0.0/8 -i minictr0 -m comment --comment minictr:bridge -j DROP
# give the container its own network stack (a network namespace) and connect it to the host with a veth pair: eth0 inside, vethabcdef0 plugged into minictr0 (hairpin on: the container can reach itself through a published port; MTU 65535: traffic that stays on this host moves in 64 KiB frames, as over lo; no IPv6 link-local address on vethabcdef0: a bridge port needs none, and its address checks would be flooded to every container on minictr0)
ip netns add minictr-abcdef012345
ip link add vethabcdef0 mtu 65535 type veth peer name eth0 mtu 65535 address 02:42:ac:12:00:02 netns minictr-abcdef012345
ip link set vethabcdef0 master minictr0
ip link set vethabcdef0 addrgenmode none
ip link set vethabcdef0 up
ip link set vethabcdef0 type bridge_slave hairpin on
# give the container eth0 an address from the bridge's subnet (172.18.0.2/16) and a default route via the gateway 172.18.0.1 (MTU 1500 towards the outside world, as Docker's); IPv6 off on eth0 first, as Docker does on an IPv4-only network (no address a router advertisement could add, no link-local chatter on the bridge)
nsenter --net=/run/netns/minictr-abcdef012345 sh -c 'echo 1 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6'
nsenter --net=/run/netns/minictr-abcdef012345 ip link set lo up
nsenter --net=/run/netns/minictr-abcdef012345 ip addr add 172.18.0.2/16 dev eth0
nsenter --net=/run/netns/minictr-abcdef012345 ip link set eth0 up
nsenter --net=/run/netns/minictr-abcdef012345 ip route add default via 172.18.0.1 mtu 1500
# publish 0.0.0.0:5005 → 172.18.0.2:5000/tcp (DNAT); publish 127.0.0.1:8080 → 172.18.0.2:80/udp (DNAT); let only minictr0 reach 172.18.0.2 directly
iptables -w -t filter -I MINICTR -d 172.18.0.2/32 '!' -i minictr0 -o minictr0 -p tcp -m tcp --dport 5000 -m comment --comment minictr:abcdef012345 -j ACCEPT
iptables -w -t filter -I MINICTR -d 172.18.0.2/32 '!' -i minictr0 -o minictr0 -p udp -m udp --dport 80 -m comment --comment minictr:abcdef012345 -j ACCEPT
iptables -w -t nat -A MINICTR -p tcp -m tcp --dport 5005 -m comment --comment minictr:abcdef012345 -j DNAT --to-destination 172.18.0.2:5000
iptables -w -t nat -A MINICTR -d 127.0.0.1/32 -p udp -m udp --dport 8080 -m comment --comment minictr:abcdef012345 -j DNAT --to-destination 172.18.0.2:80
iptables -w -t nat -A POSTROUTING -s 172.18.0.2/32 -d 172.18.0.2/32 -p tcp -m tcp --dport 5000 -m comment --comment minictr:abcdef012345 -j MASQUERADE
iptables -w -t nat -A POSTROUTING -s 172.18.0.2/32 -d 172.18.0.2/32 -p udp -m udp --dport 80 -m comment --comment minictr:abcdef012345 -j MASQUERADE
iptables -w -t raw -A PREROUTING -d 127.0.0.1/32 '!' -i lo -p udp -m udp --dport 8080 -m comment --comment minictr:abcdef012345 -j DROP
iptables -w -t raw -A PREROUTING -d 172.18.0.2/32 '!' -i minictr0 -m comment --comment minictr:abcdef012345 -j DROP
