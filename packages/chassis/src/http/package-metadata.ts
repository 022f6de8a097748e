import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface PackageMetadata {
  description?: string;
  /** An SPDX license expression. */
  license?: string;
}

/**
 * The description and license of the service's `package.json`: the one in the folder that holds
 * its `config/` directory (the service's own folder). Nothing when there is none or it is unreadable.
 */
export function readPackageMetadata(configDir: string | undefined): PackageMetadata {
  if (configDir === undefined) return {};
  let manifest: { description?: unknown; license?: unknown };
  try {
    manifest = JSON.parse(readFileSync(join(dirname(configDir), 'package.json'), 'utf8'));
  } catch {
    return {};
  }
  const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value : undefined);
  const description = text(manifest.description);
  const license = text(manifest.license);
  return {
    ...(description ? { description } : {}),
    // UNLICENSED and SEE LICENSE IN <file> are npm's words for "no open license", not SPDX.
    ...(license && !/^(UNLICENSED|SEE LICENSE IN)/i.test(license) ? { license } : {}),
  };
}
