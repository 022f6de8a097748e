import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BuiltInConfig, CreateServiceOptions, Service } from '@keelson/chassis';
import { LogCapture } from '@keelson/chassis/testing';

interface ProjectManifest {
  name?: string;
  keelson?: { service?: string; factory?: string };
}

type Factory = (options: Partial<CreateServiceOptions<{}>>) => Promise<Service<BuiltInConfig>>;

/**
 * Creates (without starting) the service of the project in `dir`, as its `package.json` names it:
 * `"keelson": { "service": "./dist/service.js", "factory": "buildOrderService" }`. Its logs are kept
 * in memory; config comes from the project's `config/`, the environment and `argv`.
 */
export async function loadService(
  dir: string,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<Service<BuiltInConfig>> {
  const manifestPath = join(dir, 'package.json');
  if (!existsSync(manifestPath)) throw new Error(`no package.json in ${dir}: run this in a service's folder`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as ProjectManifest;
  const entry = manifest.keelson?.service;
  const factoryName = manifest.keelson?.factory;
  if (!entry || !factoryName)
    throw new Error(
      `${manifestPath} has no "keelson": { "service", "factory" } entry: is this a Keelson service?`,
    );
  const modulePath = resolve(dir, entry);
  if (!existsSync(modulePath))
    throw new Error(`${entry} does not exist yet: build the service first (npm run build)`);
  const module = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
  const factory = module[factoryName];
  if (typeof factory !== 'function') throw new Error(`${entry} exports no function "${factoryName}"`);
  return (factory as Factory)({
    argv: [...argv],
    env,
    configDir: join(dir, 'config'),
    handleProcess: false,
    logDestination: new LogCapture(),
  });
}
