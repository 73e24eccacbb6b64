/**
 * Filters oidc-provider's console noise: the Node 20 "Unsupported runtime" warning, the
 * "default … function called" notices and the quick-start warnings. Other warnings and
 * every `console.error` pass through. The filter is process-wide and reference counted:
 * (re)installed by every quiet IdP that starts, removed when the last one closes.
 *
 * @module
 */
/* eslint-disable no-console -- this module wraps console.info/warn to filter them; it never logs itself. */

const NOISE: readonly RegExp[] = [
  /oidc-provider NOTICE: /,
  /oidc-provider WARNING: Unsupported runtime/,
  /oidc-provider WARNING: default \S+ function called/,
  /oidc-provider WARNING: a quick start development-only/,
  /oidc-provider WARNING: quick start development-only/,
  // Caused by the IdP itself: POST /token bodies are read before oidc-provider sees them.
  /oidc-provider WARNING: already parsed request body detected/,
];

let holders = 0;
/** The console methods the wrappers forward to (what was installed before them). */
const forward = { warn: console.warn, info: console.info };
const wrappers = {
  warn: (...args: unknown[]): void => {
    if (holders === 0 || !isNoise(args)) forward.warn.apply(console, args);
  },
  info: (...args: unknown[]): void => {
    if (holders === 0 || !isNoise(args)) forward.info.apply(console, args);
  },
};

function isNoise(args: readonly unknown[]): boolean {
  const first = args[0];
  return typeof first === 'string' && NOISE.some((pattern) => pattern.test(first));
}

/** True for a console line that the quiet filter drops (exported for tests). */
export function isOidcProviderNoise(line: string): boolean {
  return isNoise([line]);
}

/** (Re)installs the wrappers unless they are still in place (someone may have replaced them). */
function install(): void {
  if (console.warn !== wrappers.warn) {
    forward.warn = console.warn;
    console.warn = wrappers.warn;
  }
  if (console.info !== wrappers.info) {
    forward.info = console.info;
    console.info = wrappers.info;
  }
}

/** Removes the wrappers if they are still the installed console methods. */
function uninstall(): void {
  if (console.warn === wrappers.warn) console.warn = forward.warn;
  if (console.info === wrappers.info) console.info = forward.info;
}

/** Installs the filter (or re-installs it) and returns the function that releases this hold once. */
export function acquireQuietConsole(): () => void {
  holders += 1;
  install();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    holders -= 1;
    if (holders === 0) uninstall();
  };
}
