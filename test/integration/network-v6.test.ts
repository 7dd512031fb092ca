// The IPv6 matrix (./network-v6-matrix.ts) against both firewall drivers, one sandbox each.
import { ipv6Matrix } from './network-v6-matrix.js';

ipv6Matrix('iptables');
ipv6Matrix('nftables');
