import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../cli-output.js';

export interface FeatureSpec {
  default: boolean;
  doc: string;
  /** Always on: the template means nothing without it. */
  required?: boolean;
  requires?: string[];
}

/** `template.json` of a template folder. */
export interface TemplateManifest {
  name: string;
  description: string;
  features: Record<string, FeatureSpec>;
  /** Files rendered only when their condition holds. */
  files: Record<string, string>;
  /** Dependencies (and dev dependencies) of package.json kept only when their condition holds. */
  dependencies: Record<string, string>;
}

export function readManifest(templatesDir: string, name: string): TemplateManifest {
  const raw = JSON.parse(readFileSync(join(templatesDir, name, 'template.json'), 'utf8')) as Omit<
    TemplateManifest,
    'name'
  >;
  return {
    name,
    description: raw.description,
    features: raw.features ?? {},
    files: raw.files ?? {},
    dependencies: raw.dependencies ?? {},
  };
}

/**
 * The features a service gets: the template's defaults, changed by what was asked for. Throws on
 * an unknown feature, on switching off a required one, and on a feature whose prerequisite is off.
 */
export function resolveFeatures(
  manifest: TemplateManifest,
  asked: { on?: readonly string[]; off?: readonly string[]; exactly?: readonly string[] },
): Record<string, boolean> {
  const known = Object.keys(manifest.features);
  for (const name of [...(asked.on ?? []), ...(asked.off ?? []), ...(asked.exactly ?? [])])
    if (!known.includes(name))
      throw new UsageError(
        `template "${manifest.name}" has no feature "${name}" (it has: ${known.join(', ')})`,
      );
  const features: Record<string, boolean> = {};
  for (const [name, spec] of Object.entries(manifest.features))
    features[name] = asked.exactly ? asked.exactly.includes(name) : spec.default;
  for (const name of asked.on ?? []) features[name] = true;
  for (const name of asked.off ?? []) features[name] = false;
  for (const [name, spec] of Object.entries(manifest.features)) {
    if (spec.required && !features[name])
      throw new UsageError(`template "${manifest.name}" cannot go without its "${name}" feature`);
    for (const needed of features[name] ? (spec.requires ?? []) : [])
      if (!features[needed]) throw new UsageError(`feature "${name}" needs "${needed}" as well`);
  }
  return features;
}

/** Evaluates `feature`, `!feature` and `a&&b` conditions. */
export function holds(condition: string, features: Record<string, boolean>): boolean {
  return condition
    .split('&&')
    .map((part) => part.trim())
    .every((part) => (part.startsWith('!') ? !features[part.slice(1)] : Boolean(features[part])));
}
