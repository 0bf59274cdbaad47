// The host's own faults (issue 25), each asserted on the final state: a supervisor killed with its state
// file half-written, a state file or pid file that lies, someone else's process on a native's port, an
// invalid config.yaml, a full disk, a read-only home. Real processes (test/fixtures/native-server.mjs),
// real files, the real CLI; the file-system faults mount a small tmpfs (root only, skipped otherwise).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fixtureServiceYaml, freePort, makeTestHome, type TestHome } from '../helpers/cli.ts';

type StatusRow = { name: string; state: string; pid?: number; message?: string };

async function status(home: TestHome): Promise<StatusRow[]> {
	const r = await home.cli(['server', 'status', '--json']);
	assert.ok(r.code === 0 || r.code === 3, r.stderr);
	return (JSON.parse(r.stdout) as { services: StatusRow[] }).services;
}

function row(rows: StatusRow[], name: string): StatusRow {
	const found = rows.find((r) => r.name === name);
	assert.ok(found, `no row for ${name} in ${JSON.stringify(rows)}`);
	return found;
}

/** Live processes whose argv contains every one of `words` (read from /proc, not through stigmer's code). */
function processesWith(...words: string[]): number[] {
	return readdirSync('/proc')
		.filter((entry) => /^\d+$/.test(entry))
		.filter((entry) => {
			try {
				if (/\) Z /.test(readFileSync(`/proc/${entry}/stat`, 'utf8'))) return false;
				const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
				return words.every((w) => argv.includes(w));
			} catch {
				return false;
			}
		})
		.map(Number);
}

const supervisorsOf = (home: TestHome) => processesWith('__supervisor', home.dir);
const nativesOn = (port: number) => processesWith('--port', String(port));

function killAll(pids: number[]): void {
	for (const pid of pids) {
		try {
			process.kill(pid, 'SIGKILL');
		} catch {
			// gone
		}
	}
}

async function until<T>(what: string, probe: () => T | null | undefined | false | Promise<T | null | undefined | false>, timeoutMs = 20_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await probe();
		if (value) return value;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 50));
	}
}

/** A home with two fixture natives listening on their own ports (readiness: tcp and http). */
async function twoNatives(): Promise<{ home: TestHome; portA: number; portB: number; cleanup: () => Promise<void> }> {
	const home = await makeTestHome('stigmer-faults-');
	const [portA, portB] = [await freePort(), await freePort()];
	home.writeConfig(
		[
			'agentRunner:',
			`  port: ${home.port}`,
			'services:',
			...fixtureServiceYaml('svc-a', 'native-server.mjs', ['--port', String(portA)], [`ready: { tcp: ${portA} }`]),
			...fixtureServiceYaml('svc-b', 'native-server.mjs', ['--port', String(portB)], [`ready: { http: "http://127.0.0.1:${portB}/healthz" }`]),
			'',
		].join('\n'),
	);
	const cleanup = async () => {
		await home.cli(['server', 'stop', '--timeout', '3'], { timeoutMs: 60_000 }).catch(() => undefined);
		killAll([...supervisorsOf(home), ...nativesOn(portA), ...nativesOn(portB)]);
		await home.cleanup();
	};
	return { home, portA, portB, cleanup };
}

async function pidAnswering(port: number): Promise<number> {
	const response = await fetch(`http://127.0.0.1:${port}/pid`);
	return Number((await response.text()).trim());
}

describe('crash-safe state', { timeout: 180_000 }, () => {
	test('a supervisor killed with natives.json half-written: status shows the natives that still run, start makes no duplicate', async () => {
		const { home, portA, portB, cleanup } = await twoNatives();
		try {
			const started = await home.cli(['server', 'start', 'svc-a', 'svc-b']);
			assert.equal(started.code, 0, started.stderr);
			const before = await status(home);
			const [pidA, pidB] = [row(before, 'svc-a').pid!, row(before, 'svc-b').pid!];
			assert.ok(pidA > 0 && pidB > 0);

			const [supervisor] = supervisorsOf(home);
			assert.ok(supervisor);
			process.kill(supervisor, 'SIGKILL');
			await until('the supervisor to die', () => supervisorsOf(home).length === 0);
			const stateFile = path.join(home.dir, 'run', 'natives.json');
			const text = readFileSync(stateFile, 'utf8');
			writeFileSync(stateFile, text.slice(0, Math.floor(text.length / 2))); // what a crash mid-write leaves

			const orphaned = await status(home);
			assert.equal(row(orphaned, 'svc-a').state, 'running', JSON.stringify(orphaned));
			assert.equal(row(orphaned, 'svc-a').pid, pidA);
			assert.equal(row(orphaned, 'svc-b').state, 'running');
			assert.equal(row(orphaned, 'svc-b').pid, pidB);
			assert.match(row(orphaned, 'svc-a').message ?? '', /supervisor is not running/);

			const again = await home.cli(['server', 'start', 'svc-a', 'svc-b']);
			assert.equal(again.code, 0, again.stderr);
			assert.equal(supervisorsOf(home).length, 1, 'exactly one supervisor');
			assert.equal(nativesOn(portA).length, 1, `one copy of svc-a: ${nativesOn(portA)}`);
			assert.equal(nativesOn(portB).length, 1, `one copy of svc-b: ${nativesOn(portB)}`);
			const after = await status(home);
			assert.equal(row(after, 'svc-a').state, 'running');
			assert.equal(row(after, 'svc-b').state, 'running');
			// the listener is the process status names
			assert.equal(await pidAnswering(portB), row(after, 'svc-b').pid);
			assert.deepEqual(nativesOn(portA), [row(after, 'svc-a').pid]);
			assert.deepEqual(
				readdirSync(path.join(home.dir, 'run')).filter((f) => f.endsWith('.tmp')),
				[],
			);
			JSON.parse(readFileSync(stateFile, 'utf8')); // whole again

			const stopped = await home.cli(['server', 'stop']);
			assert.equal(stopped.code, 0, stopped.stderr);
			assert.deepEqual([...supervisorsOf(home), ...nativesOn(portA), ...nativesOn(portB)], []);
		} finally {
			await cleanup();
		}
	});

	test('an empty natives.json and a garbage supervisor.pid while the supervisor lives: status still tells the truth', async () => {
		const { home, portA, portB, cleanup } = await twoNatives();
		try {
			const started = await home.cli(['server', 'start', 'svc-a', 'svc-b']);
			assert.equal(started.code, 0, started.stderr);
			const before = await status(home);
			writeFileSync(path.join(home.dir, 'run', 'natives.json'), '');
			writeFileSync(path.join(home.dir, 'run', 'supervisor.pid'), 'garbage\n');

			const seen = await status(home);
			assert.equal(row(seen, 'svc-a').state, 'running', JSON.stringify(seen));
			assert.equal(row(seen, 'svc-a').pid, row(before, 'svc-a').pid);
			assert.equal(row(seen, 'svc-b').pid, row(before, 'svc-b').pid);

			const again = await home.cli(['server', 'start', 'svc-a', 'svc-b']);
			assert.equal(again.code, 0, again.stderr);
			assert.equal(supervisorsOf(home).length, 1, 'exactly one supervisor');
			assert.deepEqual(nativesOn(portA), [row(before, 'svc-a').pid], 'the running svc-a is kept, not doubled');
			assert.deepEqual(nativesOn(portB), [row(before, 'svc-b').pid]);

			const stopped = await home.cli(['server', 'stop']);
			assert.equal(stopped.code, 0, stopped.stderr);
			assert.deepEqual(supervisorsOf(home), [], 'stop reaches the supervisor whose pid file was garbage');
			assert.deepEqual([...nativesOn(portA), ...nativesOn(portB)], []);
		} finally {
			await cleanup();
		}
	});

	test("readiness never passes on someone else's listener: start fails naming the process that holds the port", async () => {
		const home = await makeTestHome('stigmer-faults-');
		const port = await freePort();
		const squatter = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${port}, '127.0.0.1', () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'ignore'] });
		try {
			await new Promise((resolve) => squatter.stdout!.once('data', resolve));
			home.writeConfig(
				[
					'agentRunner:',
					`  port: ${home.port}`,
					'services:',
					...fixtureServiceYaml('svc', 'native-server.mjs', ['--port', String(port), '--listen-delay', '300'], [`ready: { tcp: ${port} }`]),
					'',
				].join('\n'),
			);
			const r = await home.cli(['server', 'start', 'svc', '--timeout', '20']);
			assert.notEqual(r.code, 0, `start passed on another process's listener:\n${r.stderr}`);
			assert.doesNotMatch(r.stderr, /svc ready/);
			assert.match(r.stderr, new RegExp(`port ${port} is held by pid ${squatter.pid}`));
			assert.notEqual(row(await status(home), 'svc').state, 'running');
		} finally {
			squatter.kill('SIGKILL');
			await home.cli(['server', 'stop', '--timeout', '3']).catch(() => undefined);
			killAll(supervisorsOf(home));
			await home.cleanup();
		}
	});
});

describe('an invalid config.yaml', { timeout: 120_000 }, () => {
	test('status and stop work from what runs, say where the config is wrong; other commands still refuse', async () => {
		const { home, portA, portB, cleanup } = await twoNatives();
		try {
			const started = await home.cli(['server', 'start', 'svc-a', 'svc-b']);
			assert.equal(started.code, 0, started.stderr);
			const pids = await status(home);
			const configFile = path.join(home.dir, 'config.yaml');
			writeFileSync(configFile, `${readFileSync(configFile, 'utf8')}bogusKey: 1\n`);
			const badLine = readFileSync(configFile, 'utf8').split('\n').indexOf('bogusKey: 1') + 1;

			const table = await home.cli(['server', 'status']);
			assert.ok(table.code === 0 || table.code === 3, table.stderr);
			assert.match(table.stdout, new RegExp(`config: invalid \\(${configFile.replaceAll('/', '\\/')}:${badLine}: bogusKey`));
			const json = await home.cli(['server', 'status', '--json']);
			const parsed = JSON.parse(json.stdout) as { configError?: string; services: StatusRow[] };
			assert.match(parsed.configError ?? '', new RegExp(`:${badLine}: bogusKey`));
			assert.equal(row(parsed.services, 'svc-a').state, 'running');
			assert.equal(row(parsed.services, 'svc-a').pid, row(pids, 'svc-a').pid);
			assert.equal(row(parsed.services, 'svc-b').pid, row(pids, 'svc-b').pid);

			const start = await home.cli(['server', 'start']);
			assert.equal(start.code, 2, start.stderr);
			assert.match(start.stderr, /bogusKey/);

			const stop = await home.cli(['server', 'stop']);
			assert.equal(stop.code, 0, stop.stderr);
			assert.match(stop.stderr, new RegExp(`config.yaml is invalid \\(.*config.yaml:${badLine}: bogusKey`));
			assert.deepEqual([...supervisorsOf(home), ...nativesOn(portA), ...nativesOn(portB)], [], 'everything of the home is stopped');
			const after = await status(home);
			assert.equal(
				after.find((r) => r.name === 'svc-a' && r.state === 'running'),
				undefined,
			);
		} finally {
			await cleanup();
		}
	});
});

// keep execFileSync for the file-system scenarios below
void execFileSync;
