// The native services supervisor against real processes: the supervisor runs as its own detached
// process (as in production) in a temporary home, the services are the fixtures of test/fixtures.
// Every test registers cleanup that kills what it started, even when an assertion fails.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { NativeServiceConfig } from '../../source/config/types.js';
import { StigmerHome } from '../../source/home/StigmerHome.js';
import { NativeSupervisor } from '../../source/supervisor/NativeSupervisor.js';
import { signalGroup } from '../../source/supervisor/processGroup.js';
import { processFacts, processGroupMembers } from '../../source/platform/ProcessFacts.js';
import { ProcessTreeSampler } from '../../source/supervisor/processStats.js';
import type { NativeStateFile, NativeStatus, SupervisorResponse } from '../../source/supervisor/protocol.js';
import { freePort } from '../helpers/cli.ts';
import { ensureSupervisor, readNativeState, request, shutdownSupervisor, subscribe, supervisorPid } from '../../source/supervisor/SupervisorClient.js';

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));
const server = path.join(fixtures, 'native-server.mjs');
const chatter = path.join(fixtures, 'native-chatter.mjs');
const record = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (stdout|stderr) (.*)$/;

/** Short restart timing for the supervisor process: initial,max,reset (ms), failures,window (ms). */
const fastBackoff = '200,800,60000,4,60000';

function service(name: string, command: string[], extra: Partial<NativeServiceConfig> = {}): NativeServiceConfig {
	return { name, command, args: [], cwd: null, env: {}, ready: null, optional: false, restart: 'on-failure', ...extra };
}

/** A temporary home whose supervisor and every process it ever recorded are killed after the test. */
function tempHome(t: TestContext): StigmerHome {
	const home = new StigmerHome(mkdtempSync(path.join(tmpdir(), 'stigmer-sup-')), false);
	home.ensureLayout();
	const seen = new Set<number>();
	const remember = () => {
		try {
			const state = JSON.parse(readFileSync(home.nativeStateFile, 'utf8')) as NativeStateFile;
			for (const guard of Object.values(state.guards ?? {})) seen.add(guard.pid);
			if (state.supervisor) seen.add(state.supervisor.pid);
		} catch {
			// no state yet
		}
	};
	const timer = setInterval(remember, 100);
	t.after(async () => {
		clearInterval(timer);
		remember();
		const pid = supervisorPid(home);
		if (pid !== null) {
			await Promise.race([shutdownSupervisor(home, 2).catch(() => {}), sleep(5000)]);
			killQuietly(pid, 'SIGKILL');
		}
		for (const pid of seen) killQuietly(-pid, 'SIGKILL');
		for (const pid of supervisorsOf(home)) killQuietly(pid, 'SIGKILL');
		rmSync(home.dir, { recursive: true, force: true });
	});
	return home;
}

/** Every process running a supervisor for this home, whatever its pid file says. */
function supervisorsOf(home: StigmerHome): number[] {
	return readdirSync('/proc')
		.filter((entry) => /^\d+$/.test(entry))
		.filter((entry) => {
			try {
				const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
				return argv.includes('__supervisor') && argv.includes(home.dir);
			} catch {
				return false;
			}
		})
		.map(Number);
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
	try {
		process.kill(pid, signal);
	} catch {
		// gone already
	}
}

function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor<T>(what: string, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 10_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await probe();
		if (value) return value;
		if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		await sleep(25);
	}
}

async function supervise(t: TestContext, env: NodeJS.ProcessEnv = {}): Promise<StigmerHome> {
	const home = tempHome(t);
	await ensureSupervisor(home, { env: { ...process.env, ...env } });
	return home;
}

function row(services: NativeStatus[] | undefined, name: string): NativeStatus {
	const found = services?.find((s) => s.name === name);
	assert.ok(found, `no status row for ${name}`);
	return found;
}

async function status(home: StigmerHome, name: string): Promise<NativeStatus> {
	const response = await request(home, { cmd: 'status' }, { timeoutMs: 5000 });
	assert.ok(response.ok);
	return row(response.services, name);
}

function ok(response: SupervisorResponse): asserts response is Extract<SupervisorResponse, { ok: true }> {
	assert.equal(response.ok, true, response.ok ? '' : response.error);
}

function logRecords(home: StigmerHome, name: string): RegExpExecArray[] {
	const text = readFileSync(home.logFile(name), 'utf8');
	return text
		.split('\n')
		.filter((line) => line !== '')
		.map((line) => {
			const match = record.exec(line);
			assert.ok(match, `not a log record: ${JSON.stringify(line)}`);
			return match;
		});
}

function firstTime(home: StigmerHome, name: string, text: string): string {
	const found = logRecords(home, name).find((m) => m[3]!.includes(text));
	assert.ok(found, `${name}.log has no line with ${text}`);
	return found[1]!;
}

/** True when nothing with this pid runs, not even as a zombie. */
function gone(pid: number): boolean {
	return !existsSync(`/proc/${pid}`);
}

function childPidFromLog(home: StigmerHome, name: string): number | null {
	const line = logRecords(home, name).find((m) => /^child \d+$/.test(m[3]!));
	return line ? Number(line[3]!.split(' ')[1]) : null;
}

test('starts natives in order, each ready (tcp, http, log) before the next', async (t) => {
	const home = await supervise(t);
	const [p1, p2] = [await freePort(), await freePort()];
	const configs = [
		service('one', [server], { args: ['--port', String(p1), '--listen-delay', '300'], ready: { tcp: p1 } }),
		service('two', [server], { args: ['--port', String(p2), '--listen-delay', '200'], ready: { http: `http://127.0.0.1:${p2}/healthz` } }),
		service('three', [server], { args: ['--listen-delay', '0', '--ready-line', 'warmed up'], env: { FIXTURE_LOG_INTERVAL: '100000' }, ready: { log: '^started pid' } }),
	];
	const response = await request(home, { cmd: 'start', configs, timeout: 20 });
	ok(response);
	assert.deepEqual(
		response.services.map((s) => s.state),
		['running', 'running', 'running'],
	);
	for (const s of response.services) {
		assert.ok(s.pid && processFacts().info(s.pid), `${s.name} has a live pid`);
		assert.equal(processFacts().info(s.pid!)!.pgrp, s.pid, `${s.name} leads its own process group`);
		assert.match(s.startedAt!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
		assert.equal(s.restarts, 0);
	}
	// the next one started only after the previous one was listening
	assert.ok(firstTime(home, 'one', 'listening on') < firstTime(home, 'two', 'started pid'));
	assert.ok(firstTime(home, 'two', 'listening on') < firstTime(home, 'three', 'started pid'));
	// status is readable without the socket, and equal
	assert.deepEqual(
		readNativeState(home).services.map((s) => s.state),
		['running', 'running', 'running'],
	);
	// starting again is a no-op
	const again = await request(home, { cmd: 'start', configs, timeout: 5 });
	ok(again);
	assert.deepEqual(
		again.services.map((s) => s.pid),
		response.services.map((s) => s.pid),
	);
});

test('reads config.yaml when the request carries no configs; unknown names are refused', async (t) => {
	const home = await supervise(t);
	const port = await freePort();
	writeFileSync(home.configFile, `services:\n  web:\n    command: [${server}]\n    args: [--port, "${port}"]\n    ready: { tcp: ${port} }\n    optional: false\n`);
	const response = await request(home, { cmd: 'start', timeout: 20 });
	ok(response);
	assert.equal(row(response.services, 'web').state, 'running');
	const refused = await request(home, { cmd: 'stop', services: ['nope'] });
	assert.equal(refused.ok, false);
});

test('a ready probe that never passes times out and says which service', async (t) => {
	const home = await supervise(t);
	const port = await freePort();
	const response = await request(home, { cmd: 'start', configs: [service('slow', [server], { ready: { tcp: port } })], timeout: 1 });
	assert.equal(response.ok, false);
	assert.ok(!response.ok && response.timedOut && response.service === 'slow');
	assert.equal(row(response.services, 'slow').state, 'starting');
});

test('log lines: format, CRLF, interleaved streams, a final line without newline', async (t) => {
	const home = await supervise(t);
	const configs = [service('chat', [chatter], { args: ['--lines', '30', '--crlf', '--partial', 'no newline at the end'], restart: 'never' })];
	ok(await request(home, { cmd: 'start', configs, timeout: 10 }));
	await waitFor('chat exited', async () => (await status(home, 'chat')).state === 'exited');
	const records = logRecords(home, 'chat');
	const texts = records.map((m) => `${m[2]} ${m[3]}`);
	const expected = Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? `stdout line ${i + 1} stdout` : `stderr line ${i + 1} stderr`));
	// Each stream keeps its order. Across the two pipes the order is the order in which the supervisor
	// read them, which a loaded machine may swap for lines written 2 ms apart: compare per stream.
	const ofStream = (lines: string[], stream: string) => lines.filter((line) => line.startsWith(`${stream} `));
	const all = [...expected, 'stdout no newline at the end'];
	assert.deepEqual(ofStream(texts, 'stdout'), ofStream(all, 'stdout'));
	assert.deepEqual(ofStream(texts, 'stderr'), ofStream(all, 'stderr'));
	assert.equal(texts.length, all.length);
	const times = records.map((m) => m[1]!);
	assert.deepEqual([...times].sort(), times, 'timestamps never go back within a file');
	assert.equal((await status(home, 'chat')).exitCode, 0);
});

test('log files rotate by rename to .1 … .3 and keep every line of the newest files', async (t) => {
	const home = tempHome(t);
	const supervisor = new NativeSupervisor(home, { rotateBytes: 4096 });
	t.after(() => supervisor.stop([], 2000));
	supervisor.configure([service('chat', [chatter], { args: ['--lines', '400', '--interval-ms', '0'], restart: 'never' })]);
	await supervisor.start([], 10_000);
	await waitFor('chat exited', () => supervisor.status()[0]!.state === 'exited');
	const file = home.logFile('chat');
	const files = [`${file}.3`, `${file}.2`, `${file}.1`, file];
	assert.ok(files.every((f) => existsSync(f)));
	assert.ok(!existsSync(`${file}.4`));
	for (const f of files) assert.ok(readFileSync(f).length <= 4096, `${f} is within the rotation size`);
	const lines = files.flatMap((f) => readFileSync(f, 'utf8').trimEnd().split('\n'));
	const numbers = lines.map((line) => Number(record.exec(line)![3]!.split(' ')[1]));
	// per stream the order is kept; the newest line of all is there
	const odd = numbers.filter((n) => n % 2 === 1);
	assert.deepEqual(
		odd,
		[...odd].sort((a, b) => a - b),
	);
	assert.ok(numbers.includes(399) && numbers.includes(400));
});

test('a crash is restarted with backoff and counted', async (t) => {
	const home = await supervise(t, { STIGMER_SUPERVISOR_BACKOFF: fastBackoff });
	const port = await freePort();
	const configs = [service('web', [server], { args: ['--port', String(port)], ready: { http: `http://127.0.0.1:${port}/healthz` } })];
	const started = await request(home, { cmd: 'start', configs, timeout: 10 });
	ok(started);
	const firstPid = row(started.services, 'web').pid!;
	const crashedAt = Date.now();
	await fetch(`http://127.0.0.1:${port}/crash`).catch(() => {});
	const seen: string[] = [];
	const unsubscribe = subscribe(home, (services) => seen.push(row(services, 'web').state));
	t.after(unsubscribe);
	const back = await waitFor('web restarted', async () => {
		const s = await status(home, 'web');
		return s.state === 'running' && s.pid !== firstPid ? s : null;
	});
	assert.ok(Date.now() - crashedAt >= 200, 'waited for the backoff');
	assert.equal(back.restarts, 1);
	assert.equal(back.exitCode, null);
	assert.ok(gone(firstPid));
	assert.ok(seen.includes('starting') || seen.includes('restarting'), `subscriber saw the restart: ${seen.join(',')}`);
	// second crash: restarts 2, the delay doubled
	const secondPid = back.pid!;
	const again = Date.now();
	await fetch(`http://127.0.0.1:${port}/crash`).catch(() => {});
	const third = await waitFor('web restarted again', async () => {
		const s = await status(home, 'web');
		return s.state === 'running' && s.pid !== secondPid ? s : null;
	});
	assert.ok(Date.now() - again >= 400, 'the second delay doubled');
	assert.equal(third.restarts, 2);
});

test('a crash loop ends in failed; restart: never ends in exited', async (t) => {
	const home = await supervise(t, { STIGMER_SUPERVISOR_BACKOFF: fastBackoff });
	const configs = [
		service('loop', [server], { args: ['--exit-after', '50', '--exit-code', '3'], restart: 'always' }),
		service('once', [server], { args: ['--exit-after', '50', '--exit-code', '4'], restart: 'never' }),
	];
	ok(await request(home, { cmd: 'start', configs, wait: false }));
	const failed = await waitFor(
		'loop failed',
		async () => {
			const s = await status(home, 'loop');
			return s.state === 'failed' ? s : null;
		},
		15_000,
	);
	assert.equal(failed.restarts, 3);
	assert.equal(failed.exitCode, 3);
	assert.match(failed.lastError ?? '', /crash loop/);
	assert.equal(failed.pid, undefined);
	const once = await waitFor('once exited', async () => {
		const s = await status(home, 'once');
		return s.state === 'exited' ? s : null;
	});
	assert.equal(once.exitCode, 4);
	assert.equal(once.restarts, 0);
	// a start by request gives a failed service a fresh chance
	const retried = await request(home, { cmd: 'start', services: ['loop'], configs, wait: false });
	ok(retried);
	assert.equal(row(retried.services, 'loop').restarts, 0);
});

test('a missing optional executable is not-installed; a missing required one fails the start', async (t) => {
	const home = await supervise(t);
	const port = await freePort();
	const configs = [service('ghost', ['stigmer-no-such-binary'], { optional: true }), service('web', [server], { args: ['--port', String(port)], ready: { tcp: port } })];
	const response = await request(home, { cmd: 'start', configs, timeout: 10 });
	ok(response);
	assert.equal(row(response.services, 'ghost').state, 'not-installed');
	assert.equal(row(response.services, 'web').state, 'running');

	const required = [service('needed', ['stigmer-no-such-binary'])];
	const failed = await request(home, { cmd: 'start', configs: required, timeout: 10 });
	assert.equal(failed.ok, false);
	assert.ok(!failed.ok && failed.service === 'needed');
	const s = await status(home, 'needed');
	assert.equal(s.state, 'failed');
	assert.match(s.lastError ?? '', /executable not found: stigmer-no-such-binary/);

	// found in $STIGMER_HOME/bin once installed there
	writeFileSync(path.join(home.binDir, 'stigmer-no-such-binary'), `#!/bin/sh\nexec ${JSON.stringify(server)} "$@"\n`, { mode: 0o755 });
	const installed = await request(home, { cmd: 'start', configs: required, timeout: 10 });
	ok(installed);
	assert.equal(row(installed.services, 'needed').state, 'running');
});

test('a service that cannot be spawned fails with the reason, the supervisor carries on', async (t) => {
	const home = await supervise(t);
	const configs = [service('badcwd', [server], { cwd: path.join(home.dir, 'no-such-dir') }), service('badregex', [server], { ready: { log: '([' } })];
	const first = await request(home, { cmd: 'start', services: ['badcwd'], configs, timeout: 5 });
	assert.equal(first.ok, false);
	assert.match(row(first.services, 'badcwd').lastError ?? '', /cannot start .*ENOENT/);
	assert.equal(row(first.services, 'badcwd').state, 'failed');
	const second = await request(home, { cmd: 'start', services: ['badregex'], configs, timeout: 5 });
	assert.equal(second.ok, false);
	assert.match(row(second.services, 'badregex').lastError ?? '', /regular expression/);
	ok(await request(home, { cmd: 'ping' }));
});

test('stop leaves no process, no child and no zombie', async (t) => {
	const home = await supervise(t);
	const port = await freePort();
	const configs = [service('web', [server], { args: ['--port', String(port), '--spawn-child'], ready: { tcp: port } })];
	const started = await request(home, { cmd: 'start', configs, timeout: 10 });
	ok(started);
	const pid = row(started.services, 'web').pid!;
	const child = await waitFor('child pid logged', () => childPidFromLog(home, 'web'));
	assert.equal(processFacts().info(child)?.pgrp, pid, 'the child is in the service group');
	const t0 = Date.now();
	const stopped = await request(home, { cmd: 'stop', timeout: 5 });
	ok(stopped);
	assert.ok(Date.now() - t0 < 2000, 'a service that exits on SIGTERM stops fast');
	assert.equal(row(stopped.services, 'web').state, 'stopped');
	assert.equal(row(stopped.services, 'web').pid, undefined);
	await waitFor('service and child gone', () => gone(pid) && gone(child), 3000);
	assert.deepEqual(processGroupMembers(pid), []);
	assert.equal(readNativeState(home).services[0]!.state, 'stopped');
});

test('a process that ignores SIGTERM is killed after the timeout, with its group', async (t) => {
	const home = await supervise(t);
	const port = await freePort();
	const configs = [service('stubborn', [server], { args: ['--port', String(port), '--ignore-sigterm', '--spawn-child'], ready: { tcp: port } })];
	const started = await request(home, { cmd: 'start', configs, timeout: 10 });
	ok(started);
	const pid = row(started.services, 'stubborn').pid!;
	const child = await waitFor('child pid logged', () => childPidFromLog(home, 'stubborn'));
	const t0 = Date.now();
	const stopped = await request(home, { cmd: 'stop', timeout: 1 });
	const took = Date.now() - t0;
	ok(stopped);
	assert.ok(took >= 1000 && took < 4000, `stop took ${took} ms`);
	assert.equal(row(stopped.services, 'stubborn').exitCode, 137);
	await waitFor('stubborn and child gone', () => gone(pid) && gone(child), 3000);
	assert.ok(logRecords(home, 'stubborn').some((m) => m[3] === 'SIGTERM ignored'));
});

test('shutdown stops every native and the supervisor exits', async (t) => {
	const home = await supervise(t);
	const port = await freePort();
	const started = await request(home, { cmd: 'start', configs: [service('web', [server], { args: ['--port', String(port)], ready: { tcp: port } })], timeout: 10 });
	ok(started);
	const pid = row(started.services, 'web').pid!;
	const supervisor = supervisorPid(home)!;
	await shutdownSupervisor(home, 5);
	await waitFor('supervisor gone', () => gone(supervisor), 5000);
	assert.ok(gone(pid));
	assert.equal(existsSync(home.supervisorSocket), false);
	assert.equal(existsSync(home.supervisorPidFile), false);
	const state = readNativeState(home);
	assert.equal(state.supervisorPid, null);
	assert.equal(state.services[0]!.state, 'stopped');
});

test('SIGTERM to the supervisor stops the natives; SIGHUP is ignored', async (t) => {
	const home = await supervise(t);
	const port = await freePort();
	const started = await request(home, { cmd: 'start', configs: [service('web', [server], { args: ['--port', String(port)], ready: { tcp: port } })], timeout: 10 });
	ok(started);
	const pid = row(started.services, 'web').pid!;
	const supervisor = supervisorPid(home)!;
	process.kill(supervisor, 'SIGHUP');
	await sleep(200);
	ok(await request(home, { cmd: 'ping' }, { timeoutMs: 2000 }));
	process.kill(supervisor, 'SIGTERM');
	await waitFor('supervisor and native gone', () => gone(supervisor) && gone(pid), 5000);
});

test('a dead supervisor: status never says running for a dead native; a new supervisor stops orphans', async (t) => {
	const home = await supervise(t);
	const port = await freePort();
	const started = await request(home, { cmd: 'start', configs: [service('web', [server], { args: ['--port', String(port)], ready: { tcp: port } })], timeout: 10 });
	ok(started);
	const pid = row(started.services, 'web').pid!;
	const first = supervisorPid(home)!;
	process.kill(first, 'SIGKILL');
	await waitFor('supervisor gone', () => gone(first));
	// the native outlived it: reported truthfully as running, but unsupervised
	let state = readNativeState(home);
	assert.equal(state.supervisorPid, null);
	assert.equal(state.services[0]!.state, 'running');
	assert.match(state.services[0]!.lastError ?? '', /not running/);
	// a new supervisor (stale pid file and socket left behind) starts and stops the orphan
	assert.ok(existsSync(home.supervisorPidFile) && existsSync(home.supervisorSocket));
	const second = await ensureSupervisor(home);
	assert.notEqual(second.pid, first);
	await waitFor('orphan stopped', () => gone(pid), 5000);
	// and if the native dies while nobody supervises it, it is not shown running
	process.kill(second.pid, 'SIGKILL');
	await waitFor('second supervisor gone', () => gone(second.pid));
	state = readNativeState(home);
	assert.notEqual(state.services[0]?.state, 'running');
});

test('a stale pid file naming another live process does not block a start', async (t) => {
	const home = tempHome(t);
	// our own pid: alive, but not a supervisor of this home; a stale socket file beside it
	writeFileSync(home.supervisorPidFile, `${process.pid}\n`);
	writeFileSync(home.supervisorSocket, '');
	const { pid, started } = await ensureSupervisor(home);
	assert.equal(started, true);
	assert.notEqual(pid, process.pid);
	assert.equal(readFileSync(home.supervisorPidFile, 'utf8').trim(), String(pid));
});

test('two concurrent ensureSupervisor calls end with one supervisor', async (t) => {
	const home = tempHome(t);
	const results = await Promise.all([ensureSupervisor(home), ensureSupervisor(home), ensureSupervisor(home)]);
	assert.equal(new Set(results.map((r) => r.pid)).size, 1);
	// the losers (maybe still booting) find the winner and exit on their own
	await waitFor('one supervisor left', () => supervisorsOf(home).length === 1, 15_000);
	assert.deepEqual(supervisorsOf(home), [results[0]!.pid]);
});

test('pid reuse guard: a group whose leader pid now names another process is not signalled', async (t) => {
	const sleeper = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
	t.after(() => killQuietly(-sleeper.pid!, 'SIGKILL'));
	const pid = sleeper.pid!;
	const real = processFacts().info(pid)!.startTime;
	assert.equal(signalGroup({ pid, startTime: `${real}-another` }, 'SIGKILL'), false);
	await sleep(100);
	assert.equal(processFacts().info(pid)?.state !== 'Z' && !gone(pid), true, 'the other process is untouched');

	// the same through a supervisor: a state file left by a dead supervisor names that pid with another start time
	const home = tempHome(t);
	const state: NativeStateFile = {
		supervisor: { pid: 999_999, startTime: '1', startedAt: new Date().toISOString() },
		updatedAt: new Date().toISOString(),
		services: [{ name: 'web', kind: 'native', state: 'running', health: null, pid, restarts: 0, exitCode: null }],
		guards: { web: { pid, startTime: `${real}-another` } },
	};
	writeFileSync(home.nativeStateFile, JSON.stringify(state));
	assert.equal(readNativeState(home).services[0]!.state, 'exited', 'not running: that pid is another process');
	await ensureSupervisor(home);
	ok(await request(home, { cmd: 'start', configs: [], timeout: 5 })); // waits for the orphan cleanup
	assert.equal(processFacts().info(pid)?.state === 'Z' || gone(pid), false, 'the unrelated process survived');
	assert.equal(signalGroup({ pid, startTime: real }, 'SIGKILL'), true);
});

test('process tree stats: CPU of one core, RSS and PIDs of the service and its descendants', async (t) => {
	const busy = spawn(
		process.execPath,
		['-e', "require('child_process').spawn(process.execPath, ['-e', 'setInterval(()=>{},1e9)'], {stdio:'ignore'}); const end = Date.now() + 60000; while (Date.now() < end) {}"],
		{ detached: true, stdio: 'ignore' },
	);
	t.after(() => killQuietly(-busy.pid!, 'SIGKILL'));
	const sampler = new ProcessTreeSampler();
	await waitFor('child spawned', () => (sampler.sample({ busy: busy.pid }).busy?.pids ?? 0) >= 2);
	// the measuring window: procps's `ps -o time` counts whole seconds, so with the portable facts it
	// lasts until the tree has used two more seconds of CPU
	const cpuMs = () =>
		processFacts()
			.tree(busy.pid!)
			.reduce((sum, p) => sum + p.cpuMs, 0);
	const startedAt = performance.now();
	sampler.sample({ busy: busy.pid });
	if (processFacts().kind === 'ps') {
		const cpuAtStart = cpuMs();
		await waitFor('two seconds of CPU', () => cpuMs() >= cpuAtStart + 2000, 60_000);
	} else {
		await sleep(500);
	}
	const stats = sampler.sample({ busy: busy.pid, none: undefined })!;
	const windowMs = performance.now() - startedAt;
	assert.equal(stats.none, null);
	const busyStats = stats.busy!;
	assert.equal(busyStats.pids, 2);
	assert.ok(busyStats.rssBytes > 10 * 1024 * 1024, `rss ${busyStats.rssBytes}`);
	const slack = processFacts().kind === 'ps' ? (1000 / windowMs) * 100 : 0;
	assert.ok(busyStats.cpuPercent !== null && busyStats.cpuPercent > 5 && busyStats.cpuPercent < 130 + slack, `cpu ${busyStats.cpuPercent}`);
});
