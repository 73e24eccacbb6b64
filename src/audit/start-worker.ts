/**
 * Starts one of the audit's worker modules, next to this one: `.js` when built; under tsx
 * or vitest (the sources are `.ts`), through a small bootstrap that registers tsx in the
 * worker first.
 *
 * @module
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';

/** Starts `./<name>.js` (or `.ts`) as a worker thread with `workerData` and heap limits. */
export function startAuditWorker(name: string, workerData: unknown, resourceLimits: ResourceLimits): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, import.meta.url), { workerData, resourceLimits });
  const tsx = import.meta.resolve('tsx/esm/api');
  const worker = new URL(`./${name}.ts`, import.meta.url).href;
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(worker)}); })`;
  return new Worker(code, { eval: true, workerData, resourceLimits });
}
