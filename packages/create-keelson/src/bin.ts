#!/usr/bin/env node
// `npm create keelson@latest <name> [options]` runs this: it is `keelson new` under npm's naming
// convention for starter kits, with the options of `keelson new` (`npm create keelson -- --help`).
import { runMain } from '@keelson/cli';

await runMain(['new', ...process.argv.slice(2)]);
