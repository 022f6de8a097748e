// Round settings shared by the runners that load servers in alternating autocannon rounds.

/** parseArgs options every round runner accepts; a runner spreads its own next to them. */
export const ROUND_OPTIONS = {
  duration: { type: 'string' },
  rounds: { type: 'string' },
  warmup: { type: 'string' },
  connections: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
};

/** The --help lines of ROUND_OPTIONS, to go between a runner's usage line and its own options. */
export const ROUND_USAGE = [
  '  --duration <s>     length of one measured round per server (BENCH_DURATION, 5)',
  '  --rounds <n>       measured rounds per server (BENCH_ROUNDS, 3)',
  '  --warmup <s>       warm-up per server before the first round (BENCH_WARMUP, 3)',
  '  --connections <n>  concurrent connections (BENCH_CONNECTIONS, 50)',
];

/**
 * A numeric setting: the flag wins over BENCH_<NAME>, which wins over the default. A bad value
 * exits with 2 before any server starts.
 */
export function readNumberSetting(values, name, fallback, min) {
  const raw = values[name] ?? process.env[`BENCH_${name.toUpperCase()}`] ?? String(fallback);
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) {
    process.stderr.write(`--${name} must be a number >= ${min}, got "${raw}"\n`);
    process.exit(2);
  }
  return value;
}

/** Prints usageLines and exits on --help; otherwise reads the settings of ROUND_OPTIONS. */
export function readRoundSettings(values, usageLines) {
  if (values.help) {
    process.stdout.write(`${usageLines.join('\n')}\n`);
    process.exit(0);
  }
  return {
    duration: readNumberSetting(values, 'duration', 5, 1),
    rounds: readNumberSetting(values, 'rounds', 3, 1),
    warmup: readNumberSetting(values, 'warmup', 3, 0),
    connections: readNumberSetting(values, 'connections', 50, 1),
  };
}
