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

/** Writes the template into the target directory; resolves to the files written. */
export function renderTemplate(options: RenderOptions): string[] {
  const { manifest, targetDir, features, placeholders } = options;
  return planFiles(options).map(({ source, path, target }) => {
    const text = renderText(readFileSync(source, 'utf8'), features, placeholders, `${manifest.name}/${path}`);
    mkdirSync(dirname(join(targetDir, target)), { recursive: true });
    writeFileSync(join(targetDir, target), text);
    options.onFile?.(target);
    return target;
  });
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) =>
      entry.isDirectory() ? listFiles(join(dir, entry.name)) : entry.isFile() ? [join(dir, entry.name)] : [],
    );
}
