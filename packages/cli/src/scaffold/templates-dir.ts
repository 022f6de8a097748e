import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Where the templates are: `templates/` inside the published package (copied there when packing), or
 * the repository's top-level `templates/` when the CLI runs from the monorepo (from `src/` or `dist/`).
 */
export function templatesDir(): string {
  for (const candidate of ['../../templates/', '../../../../templates/']) {
    const dir = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(dir)) return dir;
  }
  throw new Error('the service templates are missing from this installation of @keelson/cli');
}

/** Names of the templates a service can start from (folders with a template.json; `_` ones are internal). */
export function templateNames(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('_') && existsSync(`${dir}/${e.name}/template.json`))
    .map((e) => e.name)
    .sort();
}
