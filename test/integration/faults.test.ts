// The host's own faults (issue 25), each asserted on the final state: a supervisor killed with its state
// file half-written, a state file or pid file that lies, someone else's process on a native's port, an
// invalid config.yaml, a full disk, a read-only home. Real processes (test/fixtures/native-server.mjs),
// real files, the real CLI; the file-system faults mount a small tmpfs (root only, skipped otherwise).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { homeHash } from '../../source/contract.ts';
import { finalAnswer, startFakeLlm } from '../helpers/fakeLlm.ts';
import { RunnerStack } from '../helpers/runnerStack.ts';
import { configWithServices, fixtureServiceYaml, freePort, makeTestHome, runCli, type TestHome } from '../helpers/cli.ts';

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

/** A home with two fixture natives listening on their own ports (readiness: tcp and http), started. */
async function twoNatives(): Promise<{ home: TestHome; portA: number; portB: number; cleanup: () => Promise<void> }> {
	const home = await makeTestHome('stigmer-faults-');
	const [portA, portB] = [await freePort(), await freePort()];
	home.writeConfig(
		configWithServices(
			home.port,
			fixtureServiceYaml('svc-a', 'native-server.mjs', ['--port', String(portA)], [`ready: { tcp: ${portA} }`]),
			fixtureServiceYaml('svc-b', 'native-server.mjs', ['--port', String(portB)], [`ready: { http: "http://127.0.0.1:${portB}/healthz" }`]),
		),
	);
	const cleanup = async () => {
		await home.cli(['server', 'stop', '--timeout', '3'], { timeoutMs: 60_000 }).catch(() => undefined);
		killAll([...supervisorsOf(home), ...nativesOn(portA), ...nativesOn(portB)]);
		await home.cleanup();
	};
	const started = await home.cli(['server', 'start', 'svc-a', 'svc-b']);
	if (started.code !== 0) await cleanup();
	assert.equal(started.code, 0, started.stderr);
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
			home.writeConfig(configWithServices(home.port, fixtureServiceYaml('svc', 'native-server.mjs', ['--port', String(port), '--listen-delay', '300'], [`ready: { tcp: ${port} }`])));
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

/** A tmpfs of `size` (mount -o size=) at a new directory, unmounted after the test; null when not root. */
function smallFileSystem(t: TestContext, size: string): string | null {
	if (process.getuid?.() !== 0) return null;
	const dir = mkdtempSync(path.join(tmpdir(), 'stigmer-fs-'));
	execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
	t.after(() => {
		execFileSync('umount', ['-l', dir]);
		rmSync(dir, { recursive: true, force: true });
	});
	return dir;
}

/** Writes a filler file until the file system says ENOSPC; returns its path. */
function fill(dir: string): string {
	const file = path.join(dir, 'filler');
	const fd = openSync(file, 'a');
	const chunk = Buffer.alloc(64 * 1024, 1);
	try {
		for (let i = 0; i < 1_000_000; i++) writeSync(fd, chunk);
	} catch (error) {
		assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
	} finally {
		closeSync(fd);
	}
	// what is left below a page
	try {
		writeFileSync(path.join(dir, 'crumbs'), Buffer.alloc(4096));
	} catch {
		// full
	}
	return file;
}

describe('the LLM forward when its owner dies', { timeout: 600_000 }, () => {
	test('status shows it down, run says what failed and how to fix it, and start brings it back without recreating the container', async (t) => {
		const llm = await startFakeLlm({ script: [], host: '127.0.0.1' });
		t.after(() => llm.close());
		const nativePort = await freePort();
		const stack = await RunnerStack.start({ llmUrl: llm.url, services: fixtureServiceYaml('svc', 'native-server.mjs', ['--port', String(nativePort)], [`ready: { tcp: ${nativePort} }`]) });
		t.after(() => killAll([...processesWith('__supervisor', stack.home.dir), ...nativesOn(nativePort)]));
		const containersOfHome = () =>
			execFileSync('docker', ['ps', '-aq', '--filter', `label=ai.stigmer.home=${homeHash(stack.home.dir)}`], { encoding: 'utf8' })
				.split('\n')
				.filter(Boolean);
		t.after(() => stack.dispose());
		const statusJson = async () => {
			const r = await stack.cli(['server', 'status', '--json']);
			assert.equal(r.code, 0, r.stderr);
			return JSON.parse(r.stdout) as { services: Array<StatusRow & { id?: string }>; llmForward?: { state: string; listen: string; target: string }; supervisor?: { pid: number | null } };
		};
		const before = await statusJson();
		assert.equal(before.llmForward?.state, 'forward', JSON.stringify(before));
		assert.equal(before.llmForward?.target, `127.0.0.1:${llm.port}`);
		const containerId = before.services.find((s) => s.name === 'agent-runner')?.id;
		assert.ok(containerId);
		const agent = path.join(stack.home.dir, 'agent.yaml');
		writeFileSync(agent, 'name: hello\ninstructions: say hi\n');

		const [supervisor] = processesWith('__supervisor', stack.home.dir);
		assert.ok(supervisor);
		process.kill(supervisor, 'SIGKILL');
		await until('the supervisor to die', () => processesWith('__supervisor', stack.home.dir).length === 0);

		const down = await statusJson();
		assert.equal(down.llmForward?.state, 'down');
		assert.equal(down.supervisor?.pid, null);
		const table = await stack.cli(['server', 'status']);
		assert.match(table.stdout, /LLM forward: down .*the supervisor that runs it is not running; agents cannot reach the LLM — run `stigmer server start`/);

		llm.push(finalAnswer('hi'));
		const failed = await stack.cli(['run', agent, 'hello']);
		assert.equal(failed.code, 1, failed.stdout + failed.stderr);
		assert.match(failed.stderr, /the stigmer supervisor is not running: the LLM forward is down/);
		assert.match(`${failed.stdout}${failed.stderr}`, /stigmer's LLM forward at .* is down/);
		assert.match(failed.stderr, /`stigmer server start` starts both again/);
		assert.doesNotMatch(`${failed.stdout}${failed.stderr}`, /set llm\.baseUrl/);

		const started = await stack.cli(['server', 'start'], { timeoutMs: 300_000 });
		assert.equal(started.code, 0, started.stderr);
		assert.match(started.stderr, /the stigmer supervisor is not running: the LLM forward is down.*: starting it again/);
		assert.equal(processesWith('__supervisor', stack.home.dir).length, 1);
		const back = await statusJson();
		assert.equal(back.llmForward?.state, 'forward');
		assert.equal(back.services.find((s) => s.name === 'agent-runner')?.id, containerId, 'the container is kept');

		llm.reset();
		llm.push(finalAnswer('hi again'));
		const ok = await stack.cli(['run', agent, 'hello']);
		assert.equal(ok.code, 0, ok.stdout + ok.stderr);
		assert.match(ok.stdout, /hi again/);

		// the same again with natives.json half-written: one start, and the home is whole
		const [second] = processesWith('__supervisor', stack.home.dir);
		process.kill(second!, 'SIGKILL');
		await until('the supervisor to die', () => processesWith('__supervisor', stack.home.dir).length === 0);
		const stateFile = path.join(stack.home.dir, 'run', 'natives.json');
		writeFileSync(stateFile, readFileSync(stateFile, 'utf8').slice(0, 40));
		const whole = await stack.cli(['server', 'start'], { timeoutMs: 300_000 });
		assert.equal(whole.code, 0, whole.stderr);
		assert.equal(processesWith('__supervisor', stack.home.dir).length, 1, 'one supervisor');
		assert.equal(nativesOn(nativePort).length, 1, 'one copy of the native');
		assert.deepEqual(containersOfHome().length, 1, 'one container');
		const final = await statusJson();
		assert.equal(final.llmForward?.state, 'forward');
		assert.equal(final.services.find((s) => s.name === 'agent-runner')?.id, containerId);
		assert.deepEqual(nativesOn(nativePort), [final.services.find((s) => s.name === 'svc')?.pid]);
	});
});

describe('a full disk under the home', { timeout: 180_000 }, () => {
	test('natives keep running, doctor says the disk is full, status stays fresh, stop completes, start refuses clearly; once there is room, one start brings the home back', async (t) => {
		const mount = smallFileSystem(t, '8m');
		if (mount === null) return t.skip('needs root to mount a small tmpfs');
		const home = await makeTestHome('stigmer-faults-');
		const dir = path.join(mount, 'home');
		const [portA, portB] = [await freePort(), await freePort()];
		const cli = (args: string[]) => runCli(['--home', dir, ...args], { timeoutMs: 120_000 });
		mkdirSync(dir);
		writeFileSync(
			path.join(dir, 'config.yaml'),
			configWithServices(
				home.port,
				fixtureServiceYaml('svc-a', 'native-server.mjs', ['--port', String(portA), '--log-interval', '20'], [`ready: { tcp: ${portA} }`]),
				fixtureServiceYaml('svc-b', 'native-server.mjs', ['--port', String(portB)], [`ready: { tcp: ${portB} }`]),
			),
		);
		const stack = () => [...processesWith('__supervisor', dir), ...nativesOn(portA), ...nativesOn(portB)];
		t.after(() => killAll(stack()));
		const statusOf = async () => {
			const r = await cli(['server', 'status', '--json']);
			assert.ok(r.code === 0 || r.code === 3, r.stderr);
			return (JSON.parse(r.stdout) as { services: StatusRow[] }).services;
		};

		const started = await cli(['server', 'start', 'svc-a', 'svc-b']);
		assert.equal(started.code, 0, started.stderr);
		const pidA = row(await statusOf(), 'svc-a').pid;
		const filler = fill(mount);

		// svc-a logs every 20 ms: its lines are dropped and counted, it keeps running, and status says why
		const full = await until('status to show the dropped log lines', async () => {
			const rows = await statusOf();
			return /lines dropped \(no space left on /.test(row(rows, 'svc-a').message ?? '') ? rows : null;
		});
		assert.equal(row(full, 'svc-a').state, 'running');
		assert.equal(row(full, 'svc-a').pid, pidA);
		assert.match(row(full, 'svc-a').message!, new RegExp(`no space left on ${mount}`));

		const doctor = await cli(['doctor']);
		assert.equal(doctor.code, 1, doctor.stdout);
		assert.match(doctor.stdout, new RegExp(`home disk.*free of .* on ${mount}`));
		assert.doesNotMatch(doctor.stdout, /all checks passed/);

		const refused = await cli(['server', 'start', 'svc-a', 'svc-b']);
		assert.equal(refused.code, 1);
		assert.match(refused.stderr, new RegExp(`no space left on ${mount} \\(.* free of `));
		assert.doesNotMatch(refused.stderr, /Traceback|\n\s+at /);

		const stopped = await cli(['server', 'stop']);
		assert.equal(stopped.code, 0, stopped.stderr);
		assert.deepEqual(stack(), [], 'supervisor and natives are gone after stop');
		assert.deepEqual(
			readdirSync(path.join(dir, 'run')).filter((f) => f.endsWith('.tmp')),
			[],
		);
		const after = await statusOf();
		assert.notEqual(row(after, 'svc-a').state, 'running', JSON.stringify(after));
		assert.notEqual(row(after, 'svc-b').state, 'running');

		rmSync(filler);
		const again = await cli(['server', 'start', 'svc-a', 'svc-b']);
		assert.equal(again.code, 0, again.stderr);
		assert.equal(processesWith('__supervisor', dir).length, 1);
		assert.equal(nativesOn(portA).length, 1);
		assert.equal(nativesOn(portB).length, 1);
		assert.match(readFileSync(path.join(dir, 'logs', 'svc-a.log'), 'utf8'), /\[stigmer\] \d+ lines dropped: no space left on /);
		assert.equal((await cli(['server', 'stop'])).code, 0);
		assert.deepEqual(stack(), []);
	});
});

describe("a full disk under the runner's data", { timeout: 300_000 }, () => {
	test('start ends with one clear line naming the file system, no traceback, and stop leaves nothing', async (t) => {
		if (process.getuid?.() !== 0) return t.skip('needs root to mount a small tmpfs');
		// an engine in a container (docker in docker, Podman 5) has its own copy of /tmp's mounts, taken
		// when it started: this host's root mount is private, so the tmpfs mounted here never reaches it
		// and the runner starts on the directory beneath (Docker 28.5: started, exit 0 instead of 1)
		if (/^(docker2\d|podman5)$/.test(process.env.STIGMER_TEST_ENGINE ?? '')) return t.skip('the engine runs in a container that does not see mounts made on the host after it started');
		const home = await makeTestHome('stigmer-faults-');
		t.after(() => home.cleanup());
		const data = path.join(home.dir, 'data', 'agent-runner');
		mkdirSync(data, { recursive: true });
		execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=1777', 'tmpfs', data]);
		t.after(() => execFileSync('umount', ['-l', data]));
		fill(data);
		const r = await home.cli(['server', 'start', '--timeout', '60']);
		assert.equal(r.code, 1, r.stderr);
		assert.match(r.stderr, /agent-runner exited with code 1 while starting/);
		assert.match(r.stderr, /cannot open the store \/data\/agent-runner\.sqlite3: no space left on the file system of \/data \(.* free of /);
		assert.doesNotMatch(r.stderr, /Traceback|OperationalError/);
		assert.match(r.stderr, new RegExp(`/data is ${data} on this machine, on ${data} \\(0 B free\\)`));
		const stopped = await home.cli(['server', 'stop']);
		assert.equal(stopped.code, 0, stopped.stderr);
		assert.equal(execFileSync('docker', ['ps', '-aq', '--filter', `label=ai.stigmer.home=${homeHash(home.dir)}`], { encoding: 'utf8' }).trim(), '');
	});
});

describe('a read-only home', () => {
	test('is reported as a read-only file system naming the path', async (t) => {
		const mount = smallFileSystem(t, '1m');
		if (mount === null) return t.skip('needs root to mount a read-only file system');
		execFileSync('mount', ['-o', 'remount,ro', mount]);
		const r = await runCli(['--home', path.join(mount, 'home'), 'server', 'start']);
		assert.equal(r.code, 1, r.stderr);
		assert.match(r.stderr, new RegExp(`read-only file system at ${mount}`));
		assert.doesNotMatch(r.stderr, /ENOENT/);
	});
});
