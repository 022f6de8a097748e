import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { renderText, replacePlaceholders } from './render-text.js';
import { holds, type TemplateManifest } from './template-manifest.js';

/** npm drops `.gitignore` and `.npmrc` from packages, so templates hold them without the dot. */
const DOTFILES: Record<string, string> = { gitignore: '.gitignore', npmrc: '.npmrc' };

export interface RenderOptions {
  templateDir: string;
  manifest: TemplateManifest;
  targetDir: string;
  features: Record<string, boolean>;
  placeholders: Record<string, string>;
  /** Told each file as it is written (a path relative to the target). */
  onFile?: (path: string) => void;
  /** When given, told each file that would be written, and nothing is written. */
  dryRun?: (path: string) => void;
}

/** Writes the template into the target directory; resolves to the files written. */
export function renderTemplate(options: RenderOptions): string[] {
  const { templateDir, manifest, targetDir, features, placeholders } = options;
  const written: string[] = [];
  for (const source of listFiles(templateDir)) {
    const path = relative(templateDir, source).split('\\').join('/');
    if (path === 'template.json') continue;
    const condition = manifest.files[path];
    if (condition !== undefined && !holds(condition, features)) continue;
    const segments = path.split('/');
    const last = segments.length - 1;
    segments[last] = DOTFILES[segments[last] as string] ?? (segments[last] as string);
    const target = replacePlaceholders(segments.join('/'), placeholders);
    if (options.dryRun) {
      options.dryRun(target);
      continue;
    }
    const text = renderText(readFileSync(source, 'utf8'), features, placeholders, `${manifest.name}/${path}`);
    mkdirSync(dirname(join(targetDir, target)), { recursive: true });
    writeFileSync(join(targetDir, target), text);
    written.push(target);
    options.onFile?.(target);
  }
  return written;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) =>
      entry.isDirectory() ? listFiles(join(dir, entry.name)) : entry.isFile() ? [join(dir, entry.name)] : [],
    );
}
