// The network matrix (./network-matrix.ts) with the nftables firewall driver, chosen by the
// state dir's config.json.
import { networkMatrix } from './network-matrix.js';

networkMatrix('nftables');
