#!/usr/bin/env node
// Local infrastructure for integration tests and development: PostgreSQL, RabbitMQ and etcd, bound to
// 127.0.0.1 on non-default ports so that a developer's own servers are left alone.
//
//   node scripts/infra.mjs up [--json]   start what is not running (installs missing servers with apt-get)
//   node scripts/infra.mjs down          stop them
//   node scripts/infra.mjs status        print each server's state; exit 0 only if all are up
//
// State (data, logs, pid files) lives in <repo>/.infra. KEELSON_TEST_POSTGRES_URL, KEELSON_TEST_AMQP_URL
// and KEELSON_TEST_ETCD_URL point at servers that are already running (those are then neither started
// nor stopped); KEELSON_INFRA=skip leaves everything alone.

import { execFile, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const INFRA = path.join(ROOT, '.infra');
const RUN = path.join(INFRA, 'run');
const LOGS = path.join(INFRA, 'logs');
const LOCK = path.join(INFRA, 'lock');
const HOST = '127.0.0.1';

const PORTS = {
  postgres: 54329,
  amqp: 56729,
  // RabbitMQ derives its Erlang distribution port as AMQP port + 20000, which is out of range for 56729.
  amqpDist: 56739,
  // A private epmd, so a system RabbitMQ (epmd on 4369) and ours never see each other.
  epmd: 43699,
  etcd: 23799,
  etcdPeer: 23809,
};

const LOCK_WAIT_MS = 15 * 60_000; // a cold start may include an apt-get install
const STOP_TIMEOUT_MS = 30_000;

const PG_DIR = path.join(INFRA, 'postgres');
const PG_DATA = path.join(PG_DIR, 'data');
const RABBIT_DIR = path.join(INFRA, 'rabbitmq');
const RABBIT_PID = path.join(RABBIT_DIR, 'rabbitmq.pid'); // written by RabbitMQ itself: the Erlang VM
const ETCD_DIR = path.join(INFRA, 'etcd');

let quiet = false;
const log = (message) => {
  if (!quiet) process.stderr.write(`infra: ${message}\n`);
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const pidFile = (name) => path.join(RUN, `${name}.pid`);
const logFile = (name) => path.join(LOGS, `${name}.log`);
const relative = (file) => path.relative(process.cwd(), file) || '.';

// ---------------------------------------------------------------------------------------------------
// PostgreSQL

const postgres = {
  name: 'postgres',
  key: 'postgres',
  pkg: 'postgresql',
  envVar: 'KEELSON_TEST_POSTGRES_URL',
  url: `postgres://postgres@${HOST}:${PORTS.postgres}/keelson`,
  readyTimeoutMs: 60_000,
  pidFiles: [pidFile('postgres'), path.join(PG_DATA, 'postmaster.pid')],
  installed: () => postgresBinDir() !== null,
  start: startPostgres,
  ready: postgresReady,
  afterReady: createKeelsonDatabase,
  stop: () => terminate(postgres, 'SIGINT'), // "fast" shutdown: SIGTERM would wait for clients to leave
};

let pgBinDir = null;
// Debian's versioned directories first (/usr/local/bin/postgres may be a stray symlink); a data
// directory can only be run by the major version that created it.
function postgresBinDir() {
  if (pgBinDir) return pgBinDir;
  const dataVersion = readText(path.join(PG_DATA, 'PG_VERSION'))?.trim();
  const debian = listDir('/usr/lib/postgresql')
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => `/usr/lib/postgresql/${v}/bin`);
  const onPath = which('postgres');
  const candidates = [...debian, ...(onPath ? [path.dirname(fs.realpathSync(onPath))] : [])];
  const complete = (dir) =>
    ['postgres', 'initdb', 'pg_isready', 'psql'].every((b) => isExecutable(path.join(dir, b)));
  for (const dir of candidates.filter(complete)) {
    const version = tryRun(path.join(dir, 'postgres'), ['--version'])?.match(/(\d+)(?:\.\d+)?/)?.[1];
    if (!version || (dataVersion && version !== dataVersion)) continue;
    pgBinDir = dir;
    return dir;
  }
  if (dataVersion && candidates.length > 0) {
    throw new Error(
      `${relative(PG_DATA)} was created by PostgreSQL ${dataVersion}, which is not installed; ` +
        `remove ${relative(PG_DIR)} to start afresh`,
    );
  }
  return null;
}

async function startPostgres() {
  const bin = postgresBinDir();
  const user = serviceUser('postgres');
  await ensureDir(PG_DIR, user, 0o700);
  assertReachable(PG_DIR, user);
  if (!fs.existsSync(path.join(PG_DATA, 'PG_VERSION'))) {
    // initdb into a scratch directory and rename, so an interrupted initdb never leaves a half-made cluster.
    const scratch = `${PG_DATA}.initdb`;
    await fsp.rm(scratch, { recursive: true, force: true });
    log('postgres: initdb (trust authentication on loopback)');
    const args = ['-D', scratch, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale'];
    await runLogged('postgres', path.join(bin, 'initdb'), args, { cwd: PG_DIR, env: baseEnv(PG_DIR), user });
    await fsp.rm(PG_DATA, { recursive: true, force: true });
    await fsp.rename(scratch, PG_DATA);
  }
  // Backends of a killed postmaster still hold its shared memory, and postgres refuses to start until
  // they are gone; a stale postmaster.pid whose pid was reused would stop it too.
  await reapProcessesIn(PG_DATA);
  await fsp.rm(path.join(PG_DATA, 'postmaster.pid'), { force: true });
  spawnDetached(
    'postgres',
    path.join(bin, 'postgres'),
    [
      ['-D', PG_DATA, '-p', String(PORTS.postgres)],
      ['-c', `listen_addresses=${HOST}`],
      ['-c', 'unix_socket_directories='], // TCP only: no socket in /var/run/postgresql
      ['-c', 'synchronous_commit=off'], // faster tests; a crash loses at most the last commits
    ].flat(),
    { cwd: PG_DIR, env: baseEnv(PG_DIR), user },
  );
}

async function postgresReady() {
  const bin = postgresBinDir();
  if (!bin) return tcpOpen(PORTS.postgres);
  const args = ['-q', '-h', HOST, '-p', String(PORTS.postgres), '-U', 'postgres', '-d', 'postgres'];
  const options = { env: baseEnv(INFRA), timeout: 5000 };
  return execFileAsync(path.join(bin, 'pg_isready'), [...args, '-t', '3'], options).then(
    () => true,
    () => false,
  );
}

async function createKeelsonDatabase() {
  const psql = path.join(postgresBinDir(), 'psql');
  const connect = ['-X', '-h', HOST, '-p', String(PORTS.postgres), '-U', 'postgres', '-d', 'postgres'];
  const env = { ...baseEnv(INFRA), PGSSLMODE: 'disable', PGCONNECT_TIMEOUT: '5' };
  const query = ['-tAc', "select 1 from pg_database where datname = 'keelson'"];
  const { stdout } = await execFileAsync(psql, [...connect, ...query], { env, timeout: 10_000 });
  if (stdout.trim() !== '1') {
    await execFileAsync(psql, [...connect, '-qc', 'create database keelson'], { env, timeout: 30_000 });
    log('postgres: created database keelson');
  }
}

// ---------------------------------------------------------------------------------------------------
// RabbitMQ

const rabbitmq = {
  name: 'rabbitmq',
  key: 'amqp',
  pkg: 'rabbitmq-server',
  envVar: 'KEELSON_TEST_AMQP_URL',
  url: `amqp://guest:guest@${HOST}:${PORTS.amqp}`,
  readyTimeoutMs: 90_000,
  // The Erlang VM (its own pid file) and the rabbitmq-server shell script that waits for it.
  pidFiles: [RABBIT_PID, pidFile('rabbitmq')],
  installed: () => rabbitmqServerBin() !== null,
  start: startRabbitmq,
  ready: () => amqpHandshake(PORTS.amqp),
  stop: stopRabbitmq,
};

// Debian's /usr/sbin/rabbitmq-server is a wrapper that switches user and reads /etc/rabbitmq; the
// script behind it takes everything from the environment set below.
function rabbitmqServerBin() {
  const debian = '/usr/lib/rabbitmq/bin/rabbitmq-server';
  if (isExecutable(debian)) return debian;
  return which('rabbitmq-server');
}

async function startRabbitmq() {
  const user = serviceUser('rabbitmq');
  await ensureDir(RABBIT_DIR, user, 0o750);
  assertReachable(RABBIT_DIR, user);
  for (const dir of ['mnesia', 'log', 'conf.d']) await ensureDir(path.join(RABBIT_DIR, dir), user, 0o750);
  await fsp.writeFile(
    path.join(RABBIT_DIR, 'rabbitmq.conf'),
    [
      `listeners.tcp.default = ${HOST}:${PORTS.amqp}`,
      // guest/guest may only log in over loopback, which is all we listen on anyway.
      'loopback_users.guest = true',
      '',
    ].join('\n'),
  );
  await fsp.writeFile(path.join(RABBIT_DIR, 'enabled_plugins'), '[].\n'); // no management plugin
  await fsp.rm(RABBIT_PID, { force: true });
  const file = (name) => path.join(RABBIT_DIR, name);
  const env = {
    ...baseEnv(RABBIT_DIR), // HOME holds the node's own .erlang.cookie
    RABBITMQ_NODENAME: 'keelson-test@localhost',
    // Point every path RabbitMQ would take from /etc/rabbitmq or /var/lib/rabbitmq at .infra.
    RABBITMQ_CONF_ENV_FILE: file('rabbitmq-env.conf'),
    RABBITMQ_CONFIG_FILE: file('rabbitmq.conf'),
    RABBITMQ_CONFIG_FILES: file('conf.d'),
    RABBITMQ_ADVANCED_CONFIG_FILE: file('advanced.config'),
    RABBITMQ_ENABLED_PLUGINS_FILE: file('enabled_plugins'),
    RABBITMQ_MNESIA_BASE: file('mnesia'),
    RABBITMQ_LOG_BASE: file('log'),
    RABBITMQ_LOGS: '-', // to stdout, i.e. .infra/logs/rabbitmq.log
    RABBITMQ_PID_FILE: RABBIT_PID,
    RABBITMQ_DIST_PORT: String(PORTS.amqpDist),
    ERL_EPMD_PORT: String(PORTS.epmd),
    ERL_EPMD_ADDRESS: HOST,
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
  };
  spawnDetached('rabbitmq', rabbitmqServerBin(), [], { cwd: RABBIT_DIR, env, user });
}

async function stopRabbitmq() {
  const stopped = await terminate(rabbitmq, 'SIGTERM');
  // The node started a private epmd on our port; it outlives the node, so stop it as well.
  const epmd = which('epmd');
  if (epmd) {
    await execFileAsync(epmd, ['-port', String(PORTS.epmd), '-kill'], { timeout: 5000 }).catch(() => {});
  }
  return stopped;
}

// ---------------------------------------------------------------------------------------------------
// etcd

const etcdClientUrl = `http://${HOST}:${PORTS.etcd}`;
const etcdPeerUrl = `http://${HOST}:${PORTS.etcdPeer}`;

const etcd = {
  name: 'etcd',
  key: 'etcd',
  pkg: 'etcd-server',
  envVar: 'KEELSON_TEST_ETCD_URL',
  url: etcdClientUrl,
  readyTimeoutMs: 30_000,
  pidFiles: [pidFile('etcd')],
  installed: () => which('etcd') !== null,
  start: startEtcd,
  ready: etcdHealthy,
  stop: () => terminate(etcd, 'SIGTERM'),
};

async function startEtcd() {
  await ensureDir(ETCD_DIR, null, 0o700);
  // etcd 3.4 refuses to run on other architectures than amd64 and ppc64le unless told it is intended.
  const env = baseEnv(ETCD_DIR);
  if (!['x64', 'ppc64'].includes(process.arch)) {
    env.ETCD_UNSUPPORTED_ARCH = process.arch === 'ia32' ? '386' : process.arch;
  }
  spawnDetached(
    'etcd',
    which('etcd'),
    [
      ['--name', 'keelson', '--data-dir', path.join(ETCD_DIR, 'data')],
      ['--listen-client-urls', etcdClientUrl, '--advertise-client-urls', etcdClientUrl],
      ['--listen-peer-urls', etcdPeerUrl, '--initial-advertise-peer-urls', etcdPeerUrl],
      ['--initial-cluster', `keelson=${etcdPeerUrl}`, '--initial-cluster-state', 'new'],
      ['--logger', 'zap', '--log-outputs', 'stderr'],
    ].flat(),
    { cwd: ETCD_DIR, env, user: null },
  );
}

function etcdHealthy() {
  return new Promise((resolve) => {
    const request = http.get(`${etcdClientUrl}/health`, { timeout: 3000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => {
        body += chunk;
      });
      response.on('end', () => {
        try {
          resolve(JSON.parse(body).health === 'true');
        } catch {
          resolve(false);
        }
      });
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}

// ---------------------------------------------------------------------------------------------------
// Orchestration

const SERVERS = [postgres, rabbitmq, etcd];

const skipAll = () => process.env.KEELSON_INFRA === 'skip';
const externalUrl = (server) => process.env[server.envVar] || undefined;
const urlOf = (server) => externalUrl(server) ?? server.url;
const urls = () => Object.fromEntries(SERVERS.map((s) => [s.key, urlOf(s)]));

/** Starts whatever is not running and returns `{ postgres, amqp, etcd }` URLs. */
export async function up(options = {}) {
  quiet = Boolean(options.quiet);
  if (skipAll()) {
    log('KEELSON_INFRA=skip: not starting anything');
    return urls();
  }
  for (const server of SERVERS.filter(externalUrl)) log(`${server.name}: using ${server.envVar}`);
  const managed = SERVERS.filter((s) => !externalUrl(s));
  if (managed.length === 0) return urls();

  await ensureDir(INFRA, null, 0o755);
  await withLock(async () => {
    await ensureDir(RUN, null, 0o755);
    await ensureDir(LOGS, null, 0o755);
    const states = await Promise.all(managed.map(probe));
    const missing = managed.filter((s, i) => states[i].state === 'down' && !s.installed());
    const installing = missing.length > 0 ? installPackages(missing.map((s) => s.pkg)) : undefined;

    const results = await Promise.allSettled(
      managed.map(async (server, i) => {
        const { state } = states[i];
        if (missing.includes(server)) await installing;
        if (state === 'port-in-use') {
          throw new Error(
            `${server.name}: ${server.url} is answered by a process not started from ${relative(INFRA)}; ` +
              `stop it, or set ${server.envVar} to use it`,
          );
        }
        const started = Date.now();
        if (state === 'down') {
          log(`${server.name}: starting (log: ${relative(logFile(server.name))})`);
          await server.stop(); // clears whatever a crashed instance left behind
          await server.start();
        }
        if (state !== 'up') {
          await waitReady(server);
          log(`${server.name}: ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        }
        await server.afterReady?.();
      }),
    );
    const errors = results.filter((r) => r.status === 'rejected').map((r) => r.reason?.message ?? r.reason);
    if (errors.length > 0) throw new Error([...new Set(errors)].join('\n'));
  });
  return urls();
}

/**
 * The path of `promtool`, which tests use to validate metric expositions. Installs Debian's
 * `prometheus` package (its service is never started) when the tool is missing.
 */
export function ensurePromtool() {
  return ensurePrometheusBinary('promtool');
}

/** The path of the Prometheus server, which integration tests run to scrape a service (same package). */
export function ensurePrometheus() {
  return ensurePrometheusBinary('prometheus');
}

async function ensurePrometheusBinary(name) {
  const found = which(name);
  if (found) return found;
  await ensureDir(INFRA, null, 0o755);
  await ensureDir(LOGS, null, 0o755);
  await withLock(async () => {
    if (!which(name)) await installPackages(['prometheus']);
  });
  return which(name);
}

/** Stops the servers started by `up`; servers given by environment variables are left alone. */
export async function down() {
  if (skipAll()) {
    log('KEELSON_INFRA=skip: not stopping anything');
    return;
  }
  if (!fs.existsSync(INFRA)) {
    log('nothing to stop');
    return;
  }
  await withLock(async () => {
    await Promise.all(
      SERVERS.map(async (server) => {
        if (externalUrl(server)) return log(`${server.name}: external (${server.envVar}), left running`);
        const wasRunning = await server.stop();
        log(`${server.name}: ${wasRunning ? 'stopped' : 'not running'}`);
      }),
    );
  });
}

const managedServer = (name) => {
  const server = SERVERS.find((s) => s.name === name);
  if (!server) throw new Error(`unknown server "${name}": one of ${SERVERS.map((s) => s.name).join(', ')}`);
  if (externalUrl(server))
    throw new Error(`${name} is external (${server.envVar}): it cannot be stopped from here`);
  return server;
};

/** Stops one server started by `up`, for fault tests (a broker or database going away). */
export async function stopServer(name) {
  const server = managedServer(name);
  await withLock(() => server.stop());
}

/** Starts one server again after `stopServer` and waits until it is ready. */
export async function startServer(name) {
  const server = managedServer(name);
  await withLock(async () => {
    if ((await probe(server)).state === 'up') return;
    await server.stop();
    await server.start();
    await waitReady(server);
    await server.afterReady?.();
  });
}

/** Reports each server's state: up, down, starting, port-in-use, external or skipped. */
export async function status() {
  const servers = await Promise.all(
    SERVERS.map(async (server) => {
      if (skipAll()) return { name: server.name, state: 'skipped', url: urlOf(server) };
      if (externalUrl(server)) return { name: server.name, state: 'external', url: urlOf(server) };
      return { name: server.name, ...(await probe(server)), url: server.url };
    }),
  );
  return { up: servers.every((s) => ['up', 'external', 'skipped'].includes(s.state)), servers };
}

async function probe(server) {
  const [pid] = livePids(server);
  const ready = await server.ready();
  if (pid && ready) return { state: 'up', pid };
  if (pid) return { state: 'starting', pid };
  return { state: ready ? 'port-in-use' : 'down' };
}

async function waitReady(server) {
  const deadline = Date.now() + server.readyTimeoutMs;
  while (Date.now() < deadline) {
    if (await server.ready()) return;
    if (livePids(server).length === 0) throw startupFailure(server, 'exited during startup');
    await sleep(250);
  }
  throw startupFailure(server, `was not ready after ${server.readyTimeoutMs / 1000} s`);
}

function startupFailure(server, what) {
  const file = logFile(server.name);
  return new Error(`${server.name} ${what}; see ${relative(file)}:\n${logTail(file)}`);
}

// Stops the server's processes (signal, bounded wait, then SIGKILL) and forgets their pid files.
// Returns whether anything was running.
async function terminate(server, signal) {
  const pids = livePids(server);
  for (const pid of pids) sendSignal(pid, signal);
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (livePids(server).length > 0 && Date.now() < deadline) await sleep(200);
  const stubborn = livePids(server);
  if (stubborn.length > 0) {
    log(`${server.name}: still running after ${STOP_TIMEOUT_MS / 1000} s, killing`);
    for (const pid of stubborn) sendSignal(pid, 'SIGKILL');
    while (livePids(server).length > 0) await sleep(100);
  }
  await fsp.rm(pidFile(server.name), { force: true });
  return pids.length > 0;
}

// ---------------------------------------------------------------------------------------------------
// Installing (Debian-like systems)

let aptUpdated = false;

async function installPackages(packages) {
  if (process.getuid?.() !== 0 || !which('apt-get')) {
    throw new Error(
      `not installed: ${packages.join(', ')}. Install with:\n  sudo apt-get install -y ${packages.join(' ')}`,
    );
  }
  log(`installing ${packages.join(' ')} (log: ${relative(logFile('apt'))})`);
  const started = Date.now();
  const options = { cwd: '/', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, user: null };
  await withServiceStartsBlocked(async () => {
    if (!aptUpdated) {
      await runLogged('apt', 'apt-get', ['update'], options);
      aptUpdated = true;
    }
    const install = ['install', '-y', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=300'];
    await runLogged('apt', 'apt-get', [...install, ...packages], options);
  });
  pgBinDir = null;
  log(`installed ${packages.join(' ')} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

// Debian packages start their system service on install (RabbitMQ on 5672 with epmd on 4369, etcd on
// 2379); without systemd the init script is run directly and a failure there fails the install.
// policy-rc.d exiting 101 tells invoke-rc.d and deb-systemd-invoke not to start anything.
async function withServiceStartsBlocked(fn) {
  const file = '/usr/sbin/policy-rc.d';
  const previous = await fsp.readFile(file).catch(() => null);
  const mode = previous ? (await fsp.stat(file)).mode & 0o7777 : 0o755;
  await fsp.writeFile(file, '#!/bin/sh\n# Written by scripts/infra.mjs during apt-get install.\nexit 101\n', {
    mode: 0o755,
  });
  try {
    return await fn();
  } finally {
    if (previous) {
      await fsp.writeFile(file, previous);
      await fsp.chmod(file, mode);
    } else {
      await fsp.rm(file, { force: true });
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Processes

// The servers must outlive this process: own session, output to a log file, not waited for.
function spawnDetached(name, command, args, { cwd, env, user }) {
  const fd = fs.openSync(logFile(name), 'a');
  fs.writeSync(fd, `\n--- ${new Date().toISOString()} infra: starting ${name} ---\n`);
  try {
    const child = spawn(command, args, {
      cwd,
      env,
      detached: true,
      stdio: ['ignore', fd, fd],
      ...(user && { uid: user.uid, gid: user.gid }),
    });
    child.on('error', () => {}); // reported below through the missing pid
    if (child.pid === undefined) throw new Error(`${name}: could not run ${command}`);
    child.unref();
    fs.writeFileSync(pidFile(name), `${child.pid}\n`);
    return child.pid;
  } finally {
    fs.closeSync(fd);
  }
}

// Runs a command to completion with its output appended to a log; fails with the log's tail.
async function runLogged(name, command, args, { cwd, env, user }) {
  const file = logFile(name);
  await fsp.appendFile(file, `\n--- ${new Date().toISOString()} ${command} ${args.join(' ')} ---\n`);
  const fd = fs.openSync(file, 'a');
  try {
    const child = spawn(command, args, {
      cwd,
      env,
      stdio: ['ignore', fd, fd],
      ...(user && { uid: user.uid, gid: user.gid }),
    });
    const code = await new Promise((resolve) => {
      child.on('error', () => resolve(-1));
      child.on('exit', (exitCode) => resolve(exitCode));
    });
    if (code !== 0) {
      throw new Error(`${path.basename(command)} failed (${code}); see ${relative(file)}:\n${logTail(file)}`);
    }
  } finally {
    fs.closeSync(fd);
  }
}

// Pids from the server's pid files that are still running and belong to this .infra (checked through
// the working directory, so a pid reused after a reboot is not mistaken for our server).
function livePids(server) {
  const pids = server.pidFiles
    .map((file) => Number.parseInt(readText(file) ?? '', 10))
    .filter((pid) => pid > 0);
  return [...new Set(pids)].filter((pid) => isAlive(pid) && isInInfra(pid));
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if (error.code !== 'EPERM') return false;
  }
  const stat = readText(`/proc/${pid}/stat`);
  return !stat || !/\) Z /.test(stat); // a zombie has exited already
}

function isInInfra(pid) {
  if (!fs.existsSync('/proc/self/cwd')) return true; // no procfs: trust the pid file
  try {
    const cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
    const infra = fs.realpathSync(INFRA);
    return cwd === infra || cwd.startsWith(`${infra}${path.sep}`);
  } catch {
    return false;
  }
}

function sendSignal(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

// Kills processes whose working directory is `dir` (orphans of a killed server), waiting briefly first.
async function reapProcessesIn(dir) {
  const find = () => {
    const real = fs.existsSync(dir) ? fs.realpathSync(dir) : dir;
    return listDir('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .map(Number)
      .filter((pid) => pid !== process.pid && tryReadlink(`/proc/${pid}/cwd`) === real);
  };
  for (let i = 0; i < 25 && find().length > 0; i++) await sleep(200);
  for (const pid of find()) sendSignal(pid, 'SIGKILL');
}

// The OS user a server runs as, when we are root; otherwise servers run as the current user.
function serviceUser(name) {
  if (process.getuid?.() !== 0) return null;
  const entry = tryRun('getent', ['passwd', name]);
  if (!entry) throw new Error(`user ${name} does not exist (is the ${name} package installed?)`);
  const [, , uid, gid] = entry.trim().split(':');
  return { name, uid: Number(uid), gid: Number(gid) };
}

function assertReachable(dir, user) {
  if (!user) return;
  try {
    execFileSync('test', ['-w', dir], { uid: user.uid, gid: user.gid, stdio: 'ignore' });
  } catch {
    throw new Error(
      `user ${user.name} cannot write ${dir}: the directories above the repository must be ` +
        'searchable by other users (chmod o+x)',
    );
  }
}

async function ensureDir(dir, user, mode) {
  await fsp.mkdir(dir, { recursive: true });
  if (user) {
    // A service user recreated with another uid (reinstalled machine, kept .infra) owns nothing any more.
    const { uid } = await fsp.stat(dir);
    if (uid !== user.uid) await execFileAsync('chown', ['-R', `${user.uid}:${user.gid}`, dir]);
  }
  await fsp.chmod(dir, mode);
}

// ---------------------------------------------------------------------------------------------------
// Lock: several test processes may run `up` at once. The holder's pid is in the lock file; a lock whose
// holder died is broken, and only by whoever holds lock.break, so two waiters never both break it.

async function withLock(fn) {
  const deadline = Date.now() + LOCK_WAIT_MS;
  let announced = false;
  while (!(await tryLock())) {
    const holder = lockHolder();
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${relative(LOCK)} (pid ${holder})`);
    if (holder && !announced) {
      log(`waiting for another infra process (pid ${holder})`);
      announced = true;
    }
    await sleep(holder ? 250 : 20); // no holder: the lock was just released or broken
  }
  try {
    return await fn();
  } finally {
    await fsp.rm(LOCK, { force: true });
  }
}

async function tryLock() {
  try {
    await fsp.writeFile(LOCK, `${process.pid}\n`, { flag: 'wx' });
    return true;
  } catch (error) {
    if (error.code !== 'EEXIST') throw error;
  }
  if (!lockIsStale(LOCK, 2000)) return false;
  const breaker = `${LOCK}.break`;
  if (lockIsStale(breaker, 2000)) await fsp.rm(breaker, { force: true }); // its holder died while breaking
  try {
    await fsp.writeFile(breaker, `${process.pid}\n`, { flag: 'wx' });
  } catch {
    return false;
  }
  try {
    if (lockIsStale(LOCK, 2000)) await fsp.rm(LOCK, { force: true });
  } finally {
    await fsp.rm(breaker, { force: true });
  }
  return false; // take it on the next round, like everyone else
}

const lockHolder = () => Number.parseInt(readText(LOCK) ?? '', 10) || undefined;

// Stale: the holder is dead, or the file is older than any holder could be. A file without a pid yet is
// being written and is given `graceMs`.
function lockIsStale(file, graceMs) {
  let age;
  try {
    age = Date.now() - fs.statSync(file).mtimeMs;
  } catch {
    return false;
  }
  const pid = Number.parseInt(readText(file) ?? '', 10);
  if (age > LOCK_WAIT_MS) return true;
  return pid > 0 ? !isAlive(pid) : age > graceMs;
}

// ---------------------------------------------------------------------------------------------------
// Probes and small helpers

function tcpOpen(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port, timeout: 2000 });
    const done = (open) => {
      socket.destroy();
      resolve(open);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

// A broker answers the AMQP 0-9-1 protocol header with a Connection.Start method frame (frame type 1).
// The listener only opens once RabbitMQ has booted, so this is a real readiness check.
function amqpHandshake(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port, timeout: 3000 });
    const done = (ready) => {
      socket.destroy();
      resolve(ready);
    };
    socket.once('connect', () => socket.write(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1')));
    socket.once('data', (data) => done(data[0] === 1));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

// A clean environment: a developer's RABBITMQ_*, ERL_*, ETCD_* or PG* variables must not leak in, and
// the system directories come first so that, say, an Erlang from a version manager does not run RabbitMQ.
function baseEnv(home) {
  const dirs = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  const pathDirs = [...new Set([...dirs, ...(process.env.PATH ?? '').split(path.delimiter)])].filter(Boolean);
  return { PATH: pathDirs.join(path.delimiter), HOME: home, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };
}

function which(command) {
  const dirs = baseEnv('/').PATH.split(path.delimiter);
  return dirs.map((dir) => path.join(dir, command)).find(isExecutable) ?? null;
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function tryRun(command, args) {
  try {
    return execFileSync(command, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    });
  } catch {
    return null;
  }
}

function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function tryReadlink(file) {
  try {
    return fs.readlinkSync(file);
  } catch {
    return null;
  }
}

function listDir(dir) {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

// The last lines of a log, from its latest start marker on.
function logTail(file, lines = 30) {
  const text = readText(file) ?? '';
  const latest = text.slice(text.lastIndexOf('\n--- ') + 1);
  return latest
    .trimEnd()
    .split('\n')
    .slice(-lines)
    .map((line) => `  | ${line}`)
    .join('\n');
}

// ---------------------------------------------------------------------------------------------------
// CLI

async function main([command, ...args]) {
  switch (command) {
    case 'up': {
      const result = await up();
      if (args.includes('--json')) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
      } else {
        for (const { name, key } of SERVERS) process.stdout.write(`${name.padEnd(10)}${result[key]}\n`);
      }
      return 0;
    }
    case 'down':
      await down();
      return 0;
    case 'status': {
      const report = await status();
      for (const { name, state, url, pid } of report.servers) {
        const detail = pid ? `${state} (pid ${pid})` : state;
        process.stdout.write(`${name.padEnd(10)}${detail.padEnd(20)}${url}\n`);
      }
      return report.up ? 0 : 1;
    }
    default:
      process.stderr.write('usage: node scripts/infra.mjs up [--json] | down | status\n');
      return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  }
}

// Run the CLI only when executed directly, not when imported (test setup).
const invokedDirectly = (() => {
  try {
    return import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1] ?? '')).href;
  } catch {
    return false;
  }
})();
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(`infra: ${error.message}\n`);
      process.exitCode = 1;
    },
  );
}
