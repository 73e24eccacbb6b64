/**
 * The zod schema of an absolute `https` URL of bounded length: the client metadata members
 * RFC 7591 §2 requires to be URLs (`client_uri`, `logo_uri`, `tos_uri`, `policy_uri`,
 * `jwks_uri`), in registration requests and in client ID metadata documents alike.
 *
 * @module
 */
import { z } from 'zod';

/** An absolute `https` URL of at most 2048 characters. */
export const httpsUrl = z
  .string()
  .max(2048)
  .refine((value) => {
    try {
      return new URL(value).protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an https URL');
