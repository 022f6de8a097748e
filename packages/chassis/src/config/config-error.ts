/** One problem found while loading configuration. */
export interface ConfigViolation {
  /** Dotted key, or the file name for a file that could not be read. */
  key: string;
  /** What is wrong, in words. */
  problem: string;
  /** Where the bad value came from: `default`, `file config/local.json`, `env HTTP_PORT`, `flag --http.port`. */
  origin: string;
  /** The value as it was given (redacted for sensitive keys); absent when there is none. */
  value?: string;
  /** The format the key expects, in words. */
  expected?: string;
}

function renderViolation(v: ConfigViolation): string {
  const got = v.value === undefined ? '' : `; got ${v.value}`;
  const expected = v.expected ? `; expected ${v.expected}` : '';
  return `  - ${v.key}: ${v.problem}${got} (from ${v.origin})${expected}`;
}

/** Invalid configuration: every violation at once, each naming its key, source and expected format. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly violations: readonly ConfigViolation[];

  constructor(violations: readonly ConfigViolation[]) {
    const count = violations.length === 1 ? '1 problem' : `${violations.length} problems`;
    super(`Invalid configuration (${count}):\n${violations.map(renderViolation).join('\n')}`);
    // The violations are in the message; keep them out of util.inspect's dump of the error.
    Object.defineProperty(this, 'violations', { value: violations, enumerable: false });
    this.violations = violations;
    // A config error is the user's input, not a bug: a stack trace would only hide the message.
    this.stack = `${this.name}: ${this.message}`;
  }
}
