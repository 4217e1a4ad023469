#!/usr/bin/env node
// `npx taskdock` in the repository: runs the TypeScript entry through tsx. The packaged app
// runs the esbuild bundle of cli/src/bin.ts instead (scripts/lib/bundles.ts).
import { register } from 'tsx/esm/api';

register();
await import('../src/bin.ts');
