// ENTRY (tooling): `npm run icons`: renders build/icon.svg into every icon electron-builder
// wants: build/icon.png (1024), build/icons/<n>x<n>.png (Linux), build/icon.ico (Windows,
// PNG-in-ICO) and build/icon.icns (macOS, PNG-in-ICNS). The outputs are committed, so building
// installers never needs a renderer; run this again only when the SVG changes.
//
// Rendering uses sharp (libvips + librsvg, prebuilt), which the frontend's Next.js already
// installs; the ICO and ICNS containers are written here, they are only headers around PNGs.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { encodeIcns, encodeIco } from './lib/icon-formats.ts';
import { ROOT } from './lib/redis-manifest.ts';

const BUILD = path.join(ROOT, 'build');
const LINUX_SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024];
const ICO_SIZES = [16, 24, 32, 48, 64, 128, 256];
// ICNS types whose payload may be PNG, with their pixel size.
const ICNS_TYPES: readonly [string, number][] = [
  ['icp4', 16],
  ['icp5', 32],
  ['ic11', 32],
  ['icp6', 64],
  ['ic12', 64],
  ['ic07', 128],
  ['ic08', 256],
  ['ic13', 256],
  ['ic09', 512],
  ['ic14', 512],
  ['ic10', 1024],
];

type Render = (size: number) => Promise<Buffer>;

async function renderer(svg: Buffer): Promise<Render> {
  let sharp: typeof import('sharp')['default'];
  try {
    sharp = (await import('sharp')).default;
  } catch (err) {
    throw new Error(
      `sharp is not installed (${(err as Error).message}). It comes with the frontend's Next.js: run npm ci at the repository root.`,
    );
  }
  const cache = new Map<number, Promise<Buffer>>();
  return (size) => {
    let png = cache.get(size);
    if (!png) {
      // Render at the target density, not by scaling a big bitmap: crisper small sizes.
      png = sharp(svg, { density: (72 * size) / 1024 })
        .resize(size, size)
        .png({ compressionLevel: 9 })
        .toBuffer();
      cache.set(size, png);
    }
    return png;
  };
}

async function main(): Promise<void> {
  const svg = await readFile(path.join(BUILD, 'icon.svg'));
  const render = await renderer(svg);
  await mkdir(path.join(BUILD, 'icons'), { recursive: true });
  for (const size of LINUX_SIZES) {
    await writeFile(path.join(BUILD, 'icons', `${size}x${size}.png`), await render(size));
  }
  await writeFile(path.join(BUILD, 'icon.png'), await render(1024));
  const ico = encodeIco(
    await Promise.all(ICO_SIZES.map(async (size) => ({ size, png: await render(size) }))),
  );
  await writeFile(path.join(BUILD, 'icon.ico'), ico);
  const icns = encodeIcns(
    await Promise.all(ICNS_TYPES.map(async ([type, size]) => ({ type, png: await render(size) }))),
  );
  await writeFile(path.join(BUILD, 'icon.icns'), icns);
  console.log(
    `icons: build/icon.png, build/icons/ (${LINUX_SIZES.length} sizes), build/icon.ico (${ico.length} bytes), build/icon.icns (${icns.length} bytes)`,
  );
}

try {
  await main();
} catch (err) {
  console.error(`icons: FAILED: ${(err as Error).message}`);
  process.exit(1);
}
