// electron-updater's update info (latest-mac.yml): what one mac job of release.yml writes
// describes its own arch only. electron-updater on a Mac picks the file for its arch (arm64 in
// the name, or not) from one latest-mac.yml, so the release needs both jobs' files in one.
import { parse, stringify } from 'yaml';

export interface UpdateFile {
  readonly url: string;
  readonly sha512: string;
  readonly size?: number;
  readonly [key: string]: unknown;
}

export interface UpdateInfo {
  readonly version: string;
  readonly files: readonly UpdateFile[];
  readonly path?: string;
  readonly sha512?: string;
  readonly releaseDate?: string;
  readonly [key: string]: unknown;
}

function check(text: string, name: string): UpdateInfo {
  const info = parse(text) as Partial<UpdateInfo> | null;
  if (typeof info?.version !== 'string' || !Array.isArray(info.files)) {
    throw new Error(`${name} is not electron-builder update info (no version and files)`);
  }
  return info as UpdateInfo;
}

/**
 * One update info listing every file of the given ones (same version only); the first one's
 * `path`/`sha512` (the legacy single-file fields) stay. Files listed twice are kept once.
 */
export function mergeUpdateInfo(texts: readonly { name: string; text: string }[]): string {
  const infos = texts.map(({ name, text }) => check(text, name));
  const [first, ...rest] = infos;
  if (!first) throw new Error('no update info to merge');
  for (const [i, info] of rest.entries()) {
    if (info.version !== first.version) {
      throw new Error(
        `${texts[i + 1]?.name} is version ${info.version}, ${texts[0]?.name} ${first.version}`,
      );
    }
  }
  const files = new Map<string, UpdateFile>();
  for (const info of infos) for (const file of info.files) files.set(file.url, file);
  return stringify({ ...first, files: [...files.values()] });
}
