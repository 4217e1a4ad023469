// ENTRY (tooling, release.yml): node --import tsx scripts/merge-update-info.ts OUT IN...
// Writes OUT: the update info files IN (each job's latest-mac.yml) as one (lib/update-info.ts).
import { readFile, writeFile } from 'node:fs/promises';
import { mergeUpdateInfo } from './lib/update-info.ts';

const [out, ...inputs] = process.argv.slice(2);
if (!out || inputs.length === 0) {
  console.error('usage: merge-update-info OUT IN...');
  process.exit(2);
}
try {
  const texts = await Promise.all(
    inputs.map(async (name) => ({ name, text: await readFile(name, 'utf8') })),
  );
  await writeFile(out, mergeUpdateInfo(texts));
  console.log(`merge-update-info: ${out} lists the files of ${inputs.join(', ')}`);
} catch (err) {
  console.error(`merge-update-info: FAILED: ${(err as Error).message}`);
  process.exit(1);
}
