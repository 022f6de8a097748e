import { createHash } from 'node:crypto';
import { dirname, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect, types } from 'node:util';

/** What an error looks like once read defensively, with the fingerprint that groups its repeats. */
export interface DescribedError {
  fingerprint: string;
  name: string;
  message: string;
  stack: string | undefined;
  frames: string[];
}

const MAX_MESSAGE = 500;

// Ids that differ between occurrences of one problem, replaced before hashing: UUIDs first (their
// groups need not hold a digit), e-mail addresses, then every word with a digit in it (numbers,
// hex and prefixed ids such as 0x7ffe, 5f3a9c0e4b1d or ord_8f7a6b), so `order 123` and `order
// 3f2504e0-…` fall into one group.
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const EMAIL = /\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b/g;
const WORD_WITH_DIGIT = /\b[a-z_]*\d\w*/gi;

/** The message with ids, numbers, UUIDs and e-mail addresses replaced by placeholders. */
export function normaliseMessage(message: string): string {
  return message
    .slice(0, MAX_MESSAGE)
    .replace(UUID, '<id>')
    .replace(EMAIL, '<email>')
    .replace(WORD_WITH_DIGIT, '<id>');
}

// `    at [async ][new ]fn (location)` or `    at location`.
const FRAME = /^\s*at (?:async )?(?:(.+?) \((.+)\)|(.+))$/;
const LINE_AND_COLUMN = /(?::\d+){1,2}$/;

/**
 * The folder of the chassis's own modules (`src/` or `dist/` of @keelson/chassis), wherever it is
 * installed: under node_modules, or linked into a workspace, where its real path is not.
 */
const CHASSIS_MODULES = `${fileURLToPath(new URL('..', import.meta.url)).replace(/[/\\]$/, '')}${sep}`;

export interface StackFrameOptions {
  /** The service's root: in-app paths are made relative to it. The working directory by default. */
  root?: string;
  /** The chassis's modules folder (for tests of other layouts). */
  chassisModules?: string;
}

/**
 * The top frames of a V8 stack as `file:function`: no line or column, so a change that only
 * moves code keeps its group. In-app frames are the application's: paths relative to the
 * service's root, so fingerprints agree across machines and install locations. Library frames
 * are those under node_modules and the chassis's own (however it is installed, so that neither
 * the layout nor the plugins switched on change a fingerprint), named from the package on. Frames
 * of the application come first; without any, the top library frames are used.
 */
export function stackFrames(
  stack: string | undefined,
  limit: number,
  { root = process.cwd(), chassisModules = CHASSIS_MODULES }: StackFrameOptions = {},
): string[] {
  if (!stack || limit === 0) return [];
  const inApp: string[] = [];
  const library: string[] = [];
  for (const line of stack.split('\n')) {
    const match = FRAME.exec(line);
    if (!match) continue;
    const fn = match[1] ?? '<anonymous>';
    const location = (match[2] ?? match[3] ?? '').replace(LINE_AND_COLUMN, '');
    const file = location.replace(/^file:\/\//, '').replace(/\?.*$/, '');
    if (file.startsWith('node:') || file.startsWith('internal/') || !/[/\\]/.test(file)) continue;
    const packaged = libraryPath(file, chassisModules);
    if (packaged !== undefined) {
      if (library.length < limit) library.push(`${packaged}:${fn}`);
      continue;
    }
    inApp.push(`${relative(root, file) || file}:${fn}`);
    if (inApp.length === limit) break;
  }
  return inApp.length > 0 ? inApp : library;
}

/** `@keelson/chassis/dist/…` or `<package>/…` for a library file; undefined for the application's. */
function libraryPath(file: string, chassisModules: string): string | undefined {
  if (file.startsWith(chassisModules))
    return `@keelson/chassis/${relative(dirname(chassisModules), file).split(sep).join('/')}`;
  const modules = file.lastIndexOf('/node_modules/');
  return modules === -1 ? undefined : file.slice(modules + 14);
}

/**
 * Reads name, message and stack of any thrown value without trusting it (getters may throw),
 * and computes the fingerprint: a hash of the name, the normalised message and the top in-app
 * frames, or of the name and `error.fingerprint` when the error sets one (a string).
 */
export function describeError(error: unknown, frameLimit: number): DescribedError {
  const name = errorName(error);
  const message = errorMessage(error);
  const stack = isError(error) ? read(() => error.stack, undefined) : undefined;
  const frames = stackFrames(typeof stack === 'string' ? stack : undefined, frameLimit);
  const custom = read(() => (error as { fingerprint?: unknown } | null)?.fingerprint, undefined);
  const basis =
    typeof custom === 'string' && custom !== ''
      ? `${name}\n${custom}`
      : `${name}\n${normaliseMessage(message)}\n${frames.join('\n')}`;
  return {
    fingerprint: createHash('sha256').update(basis).digest('hex').slice(0, 12),
    name,
    message,
    stack: typeof stack === 'string' ? stack : undefined,
    frames,
  };
}

function errorName(error: unknown): string {
  if (!isError(error)) return 'NonError';
  const own = read(() => error.name, 'Error');
  // `class NotFound extends Error {}` keeps the inherited name "Error": its class says more.
  const name =
    typeof own === 'string' && own !== '' && own !== 'Error'
      ? own
      : read(() => error.constructor?.name, undefined) || 'Error';
  return name.slice(0, 100);
}

function errorMessage(error: unknown): string {
  if (typeof error === 'string') return error.slice(0, 1000);
  if (isError(error)) {
    const message = read(() => error.message, '');
    return typeof message === 'string' ? message : String(message);
  }
  return read(() => inspect(error, { depth: 2, breakLength: Number.POSITIVE_INFINITY }), '[value]').slice(
    0,
    1000,
  );
}

/** Errors of this realm or another one (vm contexts, worker-made values). */
function isError(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value);
}

function read<T, F>(get: () => T, fallback: F): T | F {
  try {
    return get();
  } catch {
    return fallback;
  }
}
