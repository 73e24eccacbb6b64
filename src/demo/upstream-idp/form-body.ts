/**
 * Reads a small request body without a body-parser dependency.
 *
 * @module
 */
import type { IncomingMessage } from 'node:http';

/** Larger bodies are refused (oidc-provider's own limit is 56 KiB). */
export const MAX_BODY_BYTES = 56 * 1024;

/** Reads the whole body as UTF-8; rejects bodies larger than `limit` bytes. */
export function readRawBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) {
        reject(new Error('request body too large'));
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

/** Reads an `application/x-www-form-urlencoded` body (any other type gives empty params). */
export async function readUrlencodedBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  const raw = await readRawBody(req, limit);
  return type === 'application/x-www-form-urlencoded' ? new URLSearchParams(raw) : new URLSearchParams();
}
