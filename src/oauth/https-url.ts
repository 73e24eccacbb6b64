/**
 * The zod schema of an absolute `https` URL of bounded length: the client metadata members
 * RFC 7591 §2 requires to be URLs (`client_uri`, `logo_uri`, `tos_uri`, `policy_uri`,
 * `jwks_uri`), in registration requests and in client ID metadata documents alike, and the
 * descriptive members both share.
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

/**
 * The descriptive client metadata members (RFC 7591 §2) a registration request and a client
 * ID metadata document share, with the same bounds in both.
 */
export const clientDisplayMembers = {
  scope: z.string().max(1000).optional(),
  client_name: z.string().min(1).max(200).optional(),
  client_uri: httpsUrl.optional(),
  logo_uri: httpsUrl.optional(),
  tos_uri: httpsUrl.optional(),
  policy_uri: httpsUrl.optional(),
  software_id: z.string().max(200).optional(),
  software_version: z.string().max(100).optional(),
  application_type: z.enum(['native', 'web']).default('native'),
};
