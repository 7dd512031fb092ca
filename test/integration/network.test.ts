// The network matrix (./network-matrix.ts) with the iptables firewall driver, minictr's default.
import { networkMatrix } from './network-matrix.js';

networkMatrix('iptables');
