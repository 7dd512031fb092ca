// The CNI specification's error codes, and the one error the plugin fails with.
import { MinictrError, errorMessage } from '../base/errors.js';

/** Codes of the spec (1–11, 50, 51); 100 and up are the plugin's own. */
export const CNI_CODES = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnv: 4,
  io: 5,
  decode: 6,
  invalidConfig: 7,
  tryLater: 11,
  unavailable: 50,
  unavailableDegraded: 51,
  /** minictr's own: a host command (ip, iptables) or a kernel object failed. */
  hostFailure: 100,
  /** minictr's own: no free address in the range, or a host port another attachment holds. */
  exhausted: 101,
  /** minictr's own: the delegated IPAM plugin failed or answered nonsense. */
  delegatedIpam: 102,
} as const;

export class CniError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly details = '',
  ) {
    super(message);
    this.name = 'CniError';
  }
}

/** Any failure as a CniError: minictr's own errors keep their message, under the code they mean for CNI. */
export function asCniError(err: unknown): CniError {
  if (err instanceof CniError) return err;
  if (err instanceof MinictrError) {
    const warnings = err.warnings.length > 0 ? err.warnings.join('; ') : '';
    if (err.code === 'E_NO_ADDRESS' || err.code === 'E_PORT_IN_USE' || err.code === 'E_NETWORK_FULL') return new CniError(CNI_CODES.exhausted, err.message, warnings);
    if (err.code === 'E_LOCK') return new CniError(CNI_CODES.tryLater, err.message, warnings);
    if (err.code.startsWith('E_STATE')) return new CniError(CNI_CODES.io, err.message, warnings);
    if (err.code === 'E_BAD_SUBNET' || err.code === 'E_SUBNET_OVERLAP') return new CniError(CNI_CODES.invalidConfig, err.message, warnings);
    return new CniError(CNI_CODES.hostFailure, err.message, warnings);
  }
  return new CniError(CNI_CODES.hostFailure, errorMessage(err));
}

/** The spec's error JSON (stdout, with a non-zero exit). */
export function errorJson(err: CniError, cniVersion: string): string {
  return `${JSON.stringify({ cniVersion, code: err.code, msg: err.message, ...(err.details ? { details: err.details } : {}) })}\n`;
}
