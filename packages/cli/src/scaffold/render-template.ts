import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { renderText, replacePlaceholders } from './render-text.js';
import { holds, type TemplateManifest } from './template-manifest.js';
import type { WriteJournal } from './write-journal.js';

/** npm drops `.gitignore` and `.npmrc` from packages, so templates hold them without the dot. */
const DOTFILES: Record<string, string> = { gitignore: '.gitignore', npmrc: '.npmrc' };

export interface RenderOptions {
  templateDir: string;
  manifest: TemplateManifest;
  /** Writes the files into the target folder, never over an existing one. */
  journal: WriteJournal;
  features: Record<string, boolean>;
  placeholders: Record<string, string>;
  /** Told each file as it is written (a path relative to the target). */
  onFile?: (path: string) => void;
}

type PlanOptions = Pick<RenderOptions, 'templateDir' | 'manifest' | 'features' | 'placeholders'>;

/** The files the template renders for these features: source path, path in the template, target path. */
export function planFiles(options: PlanOptions): { source: string; path: string; target: string }[] {
  const { templateDir, manifest, features, placeholders } = options;
  return listFiles(templateDir).flatMap((source) => {
    const path = relative(templateDir, source).split('\\').join('/');
    const condition = manifest.files[path];
    if (path === 'template.json' || (condition !== undefined && !holds(condition, features))) return [];
    const segments = path.split('/');
    const last = segments.length - 1;
    segments[last] = DOTFILES[segments[last] as string] ?? (segments[last] as string);
    return [{ source, path, target: replacePlaceholders(segments.join('/'), placeholders) }];
  });
}

/** Writes the template through the journal; returns the files written. */
export function renderTemplate(options: RenderOptions): string[] {
  const { manifest, journal, features, placeholders } = options;
  return planFiles(options).map(({ source, path, target }) => {
    let text = renderText(readFileSync(source, 'utf8'), features, placeholders, `${manifest.name}/${path}`);
    if (path === 'package.json') text = dropDependencies(text, manifest, features);
    journal.writeFile(target, text);
    options.onFile?.(target);
    return target;
  });
}

/** Removes the dependencies whose condition in the manifest's `dependencies` does not hold. */
function dropDependencies(
  text: string,
  manifest: TemplateManifest,
  features: Record<string, boolean>,
): string {
  const pkg = JSON.parse(text) as Record<string, Record<string, string> | undefined>;
  for (const [dependency, condition] of Object.entries(manifest.dependencies)) {
    if (holds(condition, features)) continue;
    delete pkg.dependencies?.[dependency];
    delete pkg.devDependencies?.[dependency];
  }
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) =>
      entry.isDirectory() ? listFiles(join(dir, entry.name)) : entry.isFile() ? [join(dir, entry.name)] : [],
    );
}
