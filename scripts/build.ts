// ENTRY (tooling): `npm run build`: bundles every process entry with esbuild into dist/, so the
// package ships no node_modules:
//   dist/bundles/  server.mjs, worker.mjs (+ headless.mjs) → <resources>/bundles/ (outside
//                  app.asar: run by Electron-as-Node, or plain node in the smoke test)
//   dist/app/      package.json + main.mjs (the Electron main process) → app.asar
// Add an entry to ENTRIES in scripts/lib/bundles.ts to bundle another process.
import { buildBundles } from './lib/bundles.ts';

try {
  await buildBundles();
} catch (err) {
  console.error(`build: FAILED: ${(err as Error).message}`);
  process.exit(1);
}
