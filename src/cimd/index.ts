/**
 * Client ID metadata documents (CIMD, MCP 2025-11-25): detection, the SSRF-safe fetcher
 * with injectable resolver and connector, the special-address classifier, document
 * validation, the bounded cache and the clients kept in the log. docs/cimd.md explains the
 * whole feature.
 *
 * @module
 */
export { ADDRESS_RANGES, classifyAddress, isSpecialAddress, type AddressRange, type AddressVerdict } from './ip-classifier.js';
export { hostAllowed, isMetadataDocumentId, looksLikeUrl, parseMetadataDocumentId, verifiedDomainOf, type ClientIdUrl } from './client-id.js';
export {
  createSystemConnect,
  systemConnect,
  systemResolve,
  type Connect,
  type ConnectResponse,
  type ConnectTarget,
  type ResolvedAddress,
  type Resolve,
  type SystemConnectOptions,
} from './net.js';
export { createCimdFetcher, reuseSeconds, type CimdFetcher, type CimdFetcherOptions, type FetchOutcome, type FetchStage } from './fetcher.js';
export { validateMetadataDocument, documentRedirectProblem, type DocumentCheck, type DocumentPolicy } from './document.js';
export { BoundedTtlCache } from './cache.js';
export { CimdClients, DEFAULT_CACHE_ENTRIES, type CimdClientsOptions, type CimdProblem, type CimdResolution } from './clients.js';
